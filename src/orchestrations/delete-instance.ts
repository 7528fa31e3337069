// delete-instance: stop monitoring, remove every resource (the plan's
// delete-postgres), then the metadata, which frees the name. A delete that
// fails (or is cancelled) leaves the instance `delete_failed`, with why. A create still
// running was cancelled by the API in the same transaction that started this
// operation; this one runs after that create ends, because both use the
// instance name as their key.
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure } from './failure.ts'
import type { DeleteInstanceInput, DeleteInstanceOutput } from './types.ts'

/**
 * delete-instance (see the header). Resolves once the metadata is gone
 * (`deleted`: whether anything of the instance still existed); on failure marks
 * it delete_failed and rethrows.
 */
export async function deleteInstance (ctx: Context<Activities>, input: DeleteInstanceInput): Promise<DeleteInstanceOutput> {
  const act = ctx.activities
  const { instance_id } = input
  try {
    await act.stopHealthCheck({ instance_id })
    const { deleted } = await act.deletePostgres({ namespace: input.namespace, instance_name: input.name, instance_id, timeout_seconds: input.timeouts.delete_seconds })
    await act.removeMetadata({ instance_id })
    return { instance_name: input.name, deleted }
  } catch (err) {
    // Never a `deleting` that nothing ends: delete_failed says why; a new DELETE tries again, ?force=true forgets it.
    const { step, message } = failure(err)
    await act.markDeleteFailed({ instance_id, step, message: `${message}. DELETE again to retry; DELETE ?force=true forgets the instance if its platform cannot be reached (what may remain is recorded)` })
    throw err
  }
}
