// create-instance, as the plan's flow: deploy → wait for ready → connection
// strings → test connection; then the instance is running and monitored.
// On failure or cancellation: mark it failed (with the step that failed)
// and remove whatever was made.
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure } from './failure.ts'
import type { CreateInstanceInput, CreateInstanceOutput } from './types.ts'

/**
 * create-instance (see the header). Resolves with the connection strings and
 * the server's `SELECT version()` once the instance is running; on failure
 * marks it failed, deletes what was made, and rethrows the error (usually a
 * StepFailedError naming the step, or a CancelledError).
 */
export async function createInstance (ctx: Context<Activities>, input: CreateInstanceInput): Promise<CreateInstanceOutput> {
  const act = ctx.activities
  const { instance_id, timeouts } = input
  const ref = { namespace: input.namespace, instance_name: input.name, instance_id }
  const startedAt = await ctx.now()
  try {
    await act.deployPostgres({ ...ref, ...pick(input, 'postgres_version', 'storage_size_gb', 'use_load_balancer', 'dns_label', 'allowed_cidrs', 'labels') })
    await act.waitForReady({ ...ref, timeout_seconds: timeouts.ready_seconds })
    const conn = await act.getConnectionStrings({ ...ref, use_load_balancer: input.use_load_balancer, dns_label: input.dns_label, timeout_seconds: timeouts.load_balancer_seconds })
    const tested = await act.testConnection({ instance_id, connection_string: conn.dns_connection_string ?? conn.ip_connection_string, fallback_connection_string: conn.ip_connection_string })
    const deployment_time_seconds = Math.round(((await ctx.now()) - startedAt) / 1000)
    // Not running means a delete overtook us: its own operation stops whatever we started.
    if (await act.markRunning({ instance_id, ...conn, server_version: tested.version, deployment_time_seconds })) {
      await act.startHealthCheck({ instance_id })
    }
    return { instance_name: input.name, namespace: input.namespace, ...conn, postgres_version: tested.version, deployment_time_seconds }
  } catch (err) {
    // Cancelled by a delete, the instance is already `deleting` and this changes nothing;
    // cancelled by itself, it ends `failed` ("cancelled"), which the user can delete.
    await act.markFailed({ instance_id, ...failure(err) })
    await act.deletePostgres({ ...ref, timeout_seconds: timeouts.delete_seconds })
    throw err
  }
}

function pick<T, K extends keyof T> (o: T, ...keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map(k => [k, o[k]])) as Pick<T, K>
}
