// stop-instance: monitoring pauses, the server stops, its data stays
// (Kubernetes: scaled to 0, the volume kept). Health then says `stopped`,
// and auto-restart never starts it. A stop that fails leaves the instance
// running and monitored again.
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure, wrongState } from './failure.ts'
import type { InstanceChangeInput, InstanceChangeOutput } from './types.ts'

/**
 * stop-instance (see the header), waiting up to the delete timeout for the
 * server to stop. "already stopped" for a stopped instance; NonRetryableError
 * from any state but running; on failure rethrows once the instance is running
 * and monitored again.
 */
export async function stopInstance (ctx: Context<Activities>, input: InstanceChangeInput): Promise<InstanceChangeOutput> {
  const act = ctx.activities
  const { instance_id } = input
  const begun = await act.setState({ instance_id, from: ['running'], to: 'stopping' })
  if (!begun.moved) {
    if (begun.from === 'stopped') return { instance_name: input.name, changes: ['already stopped'] }
    throw wrongState('stop', begun.from)
  }
  try {
    await act.stopHealthCheck({ instance_id })
    const stopped = await act.stopPostgres({ namespace: input.namespace, instance_name: input.name, instance_id, timeout_seconds: input.timeouts.delete_seconds })
    await act.setState({ instance_id, from: ['stopping'], to: 'stopped', health: 'stopped', error: null })
    return { instance_name: input.name, changes: [stopped.detail] }
  } catch (err) {
    await act.setState({ instance_id, from: ['stopping'], to: 'running', health: 'unknown', error: failure(err) })
    await act.startHealthCheck({ instance_id })
    throw err
  }
}
