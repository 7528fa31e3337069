// The `healthMonitor` decorator ({ start, stop }, what the create/delete
// orchestrations call) and the health-check orchestration's registration.
// In worker processes it also runs the reconciler: at start-up and every
// interval, it starts the monitors that are missing and prunes old history.
// Register it after engine, provisioner, secrets (and metrics, if wanted)
// and before orchestrations, which reads app.healthMonitor.
import fp from 'fastify-plugin'
import { createHealthCheck } from '../health/health-check.ts'
import { reconcile, startMonitor, stopMonitor, type MonitorDeps } from '../health/monitor.ts'
import { probe } from '../health/probe.ts'
import { readProbeTarget, recordCheck } from '../health/store.ts'
import type { HealthActivities } from '../orchestrations/deps.ts'
import { orchestrations } from '../orchestrations/names.ts'

/** See HealthCheckDeps.checksPerGeneration: ~1.1 engine runs per check, at most 40 steps of history. */
export const CHECKS_PER_GENERATION = 10

declare module 'fastify' {
  interface FastifyInstance {
    healthMonitor: HealthActivities
  }
}

export default fp(async app => {
  const { db, engine, provisioner, secrets, config } = app
  const settings = config.health
  const intervalMs = settings.intervalSeconds * 1000
  const timeoutMs = settings.timeoutSeconds * 1000
  const metrics = app.hasDecorator('metrics') ? app.metrics : undefined
  const restart = settings.autoRestart && provisioner.restart ? provisioner.restart.bind(provisioner) : undefined

  engine.register(orchestrations.HEALTH_CHECK, createHealthCheck({
    async check (instanceId, signal) {
      const target = await readProbeTarget(db, instanceId)
      if (!target || target.state !== 'running') return null
      if (!target.ip_connection_string) {
        return { ok: false, checked_at: new Date().toISOString(), response_time_ms: 0, error: 'the instance has no connection string' }
      }
      const result = await probe({
        connection_string: target.ip_connection_string, password: secrets.decrypt(target.password_ciphertext), timeout_ms: timeoutMs
      }, signal)
      metrics?.observeHealthCheck(result.response_time_ms, result.ok)
      return result
    },
    record: (instanceId, result) => recordCheck(db, instanceId, result, settings.failureThreshold, settings.retentionHours),
    restart,
    intervalMs,
    timeoutMs,
    checksPerGeneration: CHECKS_PER_GENERATION
  }))

  const deps: MonitorDeps = { pool: db, engine, log: app.log as never, intervalMs, timeoutMs, retentionHours: settings.retentionHours }
  app.decorate('healthMonitor', {
    start: (instanceId: string) => startMonitor(deps, instanceId),
    stop: (instanceId: string) => stopMonitor(deps, instanceId)
  } satisfies HealthActivities)

  // Only where operations run: a process without workers could start
  // monitors but never run them, and needs no housekeeping of its own.
  if (config.workers.concurrency <= 0) return
  let timer: NodeJS.Timeout | undefined
  let pass: Promise<unknown> = Promise.resolve()
  let closing = false
  const tick = (): void => {
    pass = reconcile(deps).catch(err => app.log.error({ err }, 'health reconciler pass failed'))
    void pass.then(() => { if (!closing) timer = setTimeout(tick, intervalMs).unref() })
  }
  app.addHook('onReady', async () => { tick() })
  // onClose runs before the engine's and the pool's (reverse order).
  app.addHook('onClose', async () => {
    closing = true
    clearTimeout(timer)
    await pass
  })
}, { name: 'health-monitor', dependencies: ['db', 'engine', 'provisioner', 'secrets'] })
