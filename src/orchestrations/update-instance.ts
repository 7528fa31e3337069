// update-instance (PATCH /instances/{name}, the server-side part): labels
// onto the platform's objects, the allowed networks, a larger volume, and
// postgresql.conf parameters (ALTER SYSTEM + reload; a restart only when
// asked with apply=restart). Each change is recorded as soon as it is
// applied, so the instance always shows what the server has; `running`
// again after, with the error kept when one failed.
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure, wrongState } from './failure.ts'
import type { InstanceChangeOutput, UpdateInstanceInput } from './types.ts'

/**
 * update-instance (see the header): labels, networks, storage, then parameters,
 * each only when the input has it; waits use the ready timeout. Throws
 * NonRetryableError when the instance is not running; on failure rethrows once
 * the instance is running again with the error (changes made before it stay
 * recorded).
 */
export async function updateInstance (ctx: Context<Activities>, input: UpdateInstanceInput): Promise<InstanceChangeOutput> {
  const act = ctx.activities
  const { instance_id, timeouts } = input
  const ref = { namespace: input.namespace, instance_name: input.name, instance_id }
  const begun = await act.setState({ instance_id, from: ['running'], to: 'updating' })
  if (!begun.moved) throw wrongState('change', begun.from)
  const changes: string[] = []
  try {
    if (input.labels !== undefined) {
      changes.push((await act.applyLabels({ ...ref, labels: input.labels })).detail)
      await act.recordSettings({ instance_id, labels: input.labels })
    }
    if (input.allowed_cidrs !== undefined) {
      changes.push((await act.applyNetwork({ ...ref, allowed_cidrs: input.allowed_cidrs, timeout_seconds: timeouts.ready_seconds })).detail)
      await act.recordSettings({ instance_id, allowed_cidrs: input.allowed_cidrs })
    }
    if (input.storage_size_gb !== undefined) {
      changes.push((await act.resizeStorage({ ...ref, storage_size_gb: input.storage_size_gb, timeout_seconds: timeouts.ready_seconds })).detail)
      await act.recordSettings({ instance_id, storage_size_gb: input.storage_size_gb })
    }
    if (input.parameters !== undefined) {
      let { pending_restart: pending, settings } = await act.applyParameters({ instance_id, parameters: input.parameters })
      changes.push(`parameters applied: ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ') || 'reset to defaults'}`)
      if (pending && input.apply === 'restart') {
        await act.restartPostgres({ ...ref, timeout_seconds: timeouts.ready_seconds })
        changes.push('restarted to apply settings that need it')
        pending = false
      }
      await act.recordSettings({ instance_id, parameters: input.parameters, pending_restart: pending })
    }
    await act.setState({ instance_id, from: ['updating'], to: 'running', error: null })
    return { instance_name: input.name, changes }
  } catch (err) {
    await act.setState({ instance_id, from: ['updating'], to: 'running', error: failure(err) })
    throw err
  }
}
