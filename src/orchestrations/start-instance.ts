// start-instance: the stopped server starts on its data, and monitoring
// resumes. A start that fails leaves the instance stopped, with why.
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure, wrongState } from './failure.ts'
import type { InstanceChangeInput, InstanceChangeOutput } from './types.ts'

/**
 * start-instance (see the header), waiting up to the ready timeout. "already
 * running" for a running instance; NonRetryableError from any state but
 * stopped; on failure rethrows once the instance is stopped again with the
 * error.
 */
export async function startInstance (ctx: Context<Activities>, input: InstanceChangeInput): Promise<InstanceChangeOutput> {
  const act = ctx.activities
  const { instance_id } = input
  const begun = await act.setState({ instance_id, from: ['stopped'], to: 'starting' })
  if (!begun.moved) {
    if (begun.from === 'running') return { instance_name: input.name, changes: ['already running'] }
    throw wrongState('start', begun.from)
  }
  try {
    const started = await act.startPostgres({ namespace: input.namespace, instance_name: input.name, instance_id, timeout_seconds: input.timeouts.ready_seconds })
    await act.setState({ instance_id, from: ['starting'], to: 'running', health: 'unknown', error: null })
    await act.startHealthCheck({ instance_id })
    return { instance_name: input.name, changes: [started.detail] }
  } catch (err) {
    await act.setState({ instance_id, from: ['starting'], to: 'stopped', health: 'stopped', error: failure(err) })
    throw err
  }
}
