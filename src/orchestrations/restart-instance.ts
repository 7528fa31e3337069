// restart-instance: a new server process on the same data (locally a fast
// restart; on Kubernetes a new pod), then a login to prove it serves. The
// instance is `restarting` meanwhile and `running` after, whatever happened
// (a failure is kept on the instance, and health monitoring keeps watching).
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure, wrongState } from './failure.ts'
import type { InstanceChangeInput, RestartInstanceOutput } from './types.ts'

/**
 * restart-instance (see the header), waiting up to the ready timeout. Throws
 * NonRetryableError when the instance is not running; on failure rethrows once
 * the instance is running again with the error.
 */
export async function restartInstance (ctx: Context<Activities>, input: InstanceChangeInput): Promise<RestartInstanceOutput> {
  const act = ctx.activities
  const { instance_id } = input
  const begun = await act.setState({ instance_id, from: ['running'], to: 'restarting' })
  if (!begun.moved) throw wrongState('restart', begun.from)
  try {
    const { process } = await act.restartPostgres({ namespace: input.namespace, instance_name: input.name, instance_id, timeout_seconds: input.timeouts.ready_seconds })
    await act.recordSettings({ instance_id, pending_restart: false })
    await act.setState({ instance_id, from: ['restarting'], to: 'running', error: null })
    return { instance_name: input.name, process }
  } catch (err) {
    await act.setState({ instance_id, from: ['restarting'], to: 'running', error: failure(err) })
    throw err
  }
}
