// delete-instance: stop monitoring, remove every resource, then the metadata,
// which frees the name. A create still running was cancelled by the API in
// the same transaction that started this operation; it runs after that
// create ends, because both use the instance name as their key.
import { activities } from '../activities/names.ts'
import type { Context } from '../engine/index.ts'
import type { OrchestrationDeps } from './deps.ts'
import { steps } from './names.ts'
import type { DeleteInstanceOrchestrationInput, DeleteInstanceOutput } from './types.ts'

export function deleteInstanceOrchestration (deps: OrchestrationDeps) {
  return async function deleteInstance (ctx: Context, input: DeleteInstanceOrchestrationInput): Promise<DeleteInstanceOutput> {
    await ctx.step(steps.STOP_HEALTH_CHECK, () => deps.health.stop(input.instance_id))
    const result = await ctx.step(activities.DELETE_POSTGRES,
      signal => deps.activities.deletePostgres({ namespace: input.namespace, instance_name: input.name }, signal),
      { maxAttempts: 10, maxDelayMs: 60_000 })
    await ctx.step(steps.REMOVE_METADATA, () => deps.instances.remove(input.instance_id))
    return { instance_name: input.name, deleted: result.deleted }
  }
}
