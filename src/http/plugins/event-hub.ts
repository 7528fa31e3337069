// The `eventHub` decorator: one listener per process for "something about
// an instance may have changed" (the instance trigger's NOTIFY and the
// engine's trace events), shared by the event streams and the status cache.
import fp from 'fastify-plugin'
import { createEventHub, type EventHub } from '../../instances/event-stream.ts'

declare module 'fastify' {
  interface FastifyInstance {
    eventHub: EventHub
  }
}

export default fp(async app => {
  // LISTEN needs a session connection, not a transaction pooler.
  const hub = createEventHub({ connectionString: app.config.databaseDirectUrl ?? (app.db.options.connectionString as string), engine: app.engine, log: app.log })
  app.decorate('eventHub', hub)
  app.addHook('onClose', async () => { await hub.close() })
}, { name: 'event-hub', dependencies: ['db', 'engine'] })
