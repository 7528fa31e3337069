// The `engine` decorator: durable operations on pg-boss. Orchestrations are
// registered by the orchestrations plugin, which then starts the workers.
import fp from 'fastify-plugin'
import { Engine } from '../../engine/index.ts'

declare module 'fastify' {
  interface FastifyInstance {
    engine: Engine
  }
}

export default fp(async app => {
  const engine = new Engine({
    pool: app.db,
    boss: app.boss,
    // Errors that only mean "the database is down" are the outage log's to report, once.
    logger: app.outage.filter(app.log),
    // LISTEN needs a session connection, not a transaction pooler.
    listenConnectionString: app.config.databaseDirectUrl,
    concurrency: app.config.workers.concurrency,
    heartbeatSeconds: app.config.workers.heartbeatSeconds
  })
  app.decorate('engine', engine)
  // onClose hooks run in reverse order: workers drain, then pg-boss stops, then the pool.
  app.addHook('onClose', async () => { await engine.stop() })
}, { name: 'engine', dependencies: ['db', 'boss'] })
