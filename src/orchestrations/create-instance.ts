// create-instance: deploy → wait for ready → connection strings → test, then
// the instance is running and monitored. On failure the instance is marked
// failed (with the step that failed) and whatever was created is removed.
import { lookup } from 'node:dns/promises'
import { activities } from '../activities/names.ts'
import type { GetConnectionStringsOutput } from '../activities/types.ts'
import { CancelledError, StepFailedError, type Context } from '../engine/index.ts'
import type { OrchestrationDeps } from './deps.ts'
import { steps } from './names.ts'
import type { CreateInstanceOrchestrationInput, CreateInstanceOutput } from './types.ts'

/** A new DNS label may not resolve yet: test through the IP until it does. */
async function reachableConnectionString (conn: GetConnectionStringsOutput): Promise<string> {
  if (conn.dns_connection_string && conn.dns_name) {
    try {
      await lookup(conn.dns_name)
      return conn.dns_connection_string
    } catch {}
  }
  return conn.ip_connection_string
}

export function createInstanceOrchestration (deps: OrchestrationDeps) {
  return async function createInstance (ctx: Context, input: CreateInstanceOrchestrationInput): Promise<CreateInstanceOutput> {
    const { activities: act, instances } = deps
    const ref = { namespace: input.namespace, instance_name: input.name }
    const startedAt = await ctx.now()
    try {
      await ctx.step(activities.DEPLOY_POSTGRES, async signal => act.deployPostgres({
        ...ref,
        password: await instances.password(input.instance_id),
        postgres_version: input.postgres_version,
        storage_size_gb: input.storage_size_gb,
        use_load_balancer: input.use_load_balancer,
        dns_label: input.dns_label
      }, signal))
      // One attempt: the activity has its own deadline, and fails fast on a pod that cannot start.
      await ctx.step(activities.WAIT_FOR_READY, signal => act.waitForReady({ ...ref, timeout_seconds: deps.readyTimeoutSeconds }, signal), { maxAttempts: 1 })
      const conn = await ctx.step(activities.GET_CONNECTION_STRINGS, signal => act.getConnectionStrings({
        ...ref, use_load_balancer: input.use_load_balancer, dns_label: input.dns_label
      }, signal))
      const tested = await ctx.step(activities.TEST_CONNECTION, async signal => act.testConnection({
        connection_string: await reachableConnectionString(conn),
        password: await instances.password(input.instance_id)
      }, signal))
      const output: CreateInstanceOutput = {
        instance_name: input.name,
        namespace: input.namespace,
        ip_connection_string: conn.ip_connection_string,
        dns_connection_string: conn.dns_connection_string,
        external_ip: conn.external_ip,
        dns_name: conn.dns_name,
        postgres_version: tested.version,
        deployment_time_seconds: Math.round(((await ctx.now()) - startedAt) / 1000)
      }
      const running = await ctx.step(steps.MARK_RUNNING, () => instances.markRunning(input.instance_id, {
        ...conn, server_version: tested.version, deployment_time_seconds: output.deployment_time_seconds
      }))
      // Not running means a delete overtook us: its own operation stops whatever we started.
      if (running) await ctx.step(steps.START_HEALTH_CHECK, () => deps.health.start(input.instance_id))
      return output
    } catch (err) {
      // Cancelled: a delete is queued behind us and owns the instance's state now.
      if (!(err instanceof CancelledError)) {
        await ctx.step(steps.MARK_FAILED, () => instances.markFailed(input.instance_id, {
          step: err instanceof StepFailedError ? err.step : null,
          message: err instanceof Error ? err.message : String(err)
        }))
      }
      // Compensation: leave no orphaned Secret/PVC/StatefulSet/Service or process.
      await ctx.step(activities.DELETE_POSTGRES, signal => act.deletePostgres(ref, signal), { maxAttempts: 10, maxDelayMs: 60_000 })
      throw err
    }
  }
}
