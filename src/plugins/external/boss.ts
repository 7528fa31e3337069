// The one pg-boss instance: error listener before start(), stop() on close.
import fp from 'fastify-plugin'
import { PgBoss } from 'pg-boss'
import { boundedWaits } from './db.ts'

declare module 'fastify' {
  interface FastifyInstance {
    boss: PgBoss
  }
}

/** pg-boss needs a session connection: LISTEN/NOTIFY and advisory locks do not survive a transaction pooler. */
export default fp<{ databaseUrl: string }>(async (app, opts) => {
  // Its maintenance statements may run longer than a request's: a wider bound.
  const waits = boundedWaits(Math.max(30, app.config.databaseTimeoutSeconds))
  const boss = new PgBoss({
    connectionString: opts.databaseUrl,
    ...waits,
    schema: 'pgboss',
    application_name: 'toygres-boss',
    // The engine fetches jobs itself and wakes on its own NOTIFY: pg-boss needs no LISTEN connection.
    useListenNotify: false,
    // A dead worker's operations are taken over through their lapsed leases
    // (src/engine), not pg-boss's job heartbeats: its supervisor only keeps
    // the job table tidy, at its own pace.
  })
  boss.on('error', err => { if (!app.outage.report(err)) app.log.error({ err }, 'pg-boss error') })
  await boss.start()
  app.decorate('boss', boss)
  app.addHook('onClose', async () => {
    await boss.stop({ graceful: true, timeout: app.config.shutdownGraceMs })
  })
}, { name: 'boss', dependencies: ['db'] })
