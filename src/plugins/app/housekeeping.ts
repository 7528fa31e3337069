// Housekeeping in worker processes: at start-up and every health interval,
// one pass (instances/housekeeping.ts) that starts missing health monitors,
// marks stale verdicts and prunes what outlived its retention. A process
// without workers could start monitors but never run them, and needs none.
import fp from 'fastify-plugin'
import { housekeeping } from '../../instances/housekeeping.ts'

export default fp(async app => {
  const { config } = app
  if (config.workers.concurrency <= 0) return
  const intervalMs = config.health.intervalSeconds * 1000
  const deps = {
    ...app.monitors.deps,
    log: app.outage.filter(app.log),
    intervalMs,
    timeoutMs: config.health.timeoutSeconds * 1000,
    retentionHours: config.health.retentionHours,
    operationRetentionHours: config.operationRetentionHours
  }
  let timer: NodeJS.Timeout | undefined
  let pass: Promise<unknown> = Promise.resolve()
  let closing = false
  const tick = (): void => {
    pass = housekeeping(deps).catch(err => deps.log.error({ err }, 'housekeeping pass failed'))
    void pass.then(() => { if (!closing) timer = setTimeout(tick, intervalMs).unref() })
  }
  app.addHook('onReady', async () => { tick() })
  // onClose runs before the engine's and the pool's (reverse order).
  app.addHook('onClose', async () => {
    closing = true
    clearTimeout(timer)
    await pass
  })
}, { name: 'housekeeping', dependencies: ['db', 'engine', 'orchestrations'] })
