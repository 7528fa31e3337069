// The whole control plane as one Fastify plugin. server.ts only listens;
// tests register this same plugin and use inject() or listen on port 0.
// Plugins load in tiers (fastify/demo): plugins/external (database, pg-boss),
// then plugins/app (secrets, identity and CA, engine, provisioner, metrics,
// orchestrations and the services that start them, housekeeping), then the
// HTTP routes.
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { isCidr } from './cidr.ts'
import { clientErrorHandler, parseJsonBody } from './http/plugins/errors.ts'
import { schemaController } from './http/validation.ts'
import type { Config } from './config.ts'
import auth from './http/plugins/auth.ts'
import dashboard from './http/plugins/dashboard.ts'
import errors from './http/plugins/errors.ts'
import eventHub from './http/plugins/event-hub.ts'
import statusCache from './http/plugins/status-cache.ts'
import swagger from './http/plugins/swagger.ts'
import health from './http/routes/health.ts'
import instanceHealth from './http/routes/instance-health.ts'
import sseModule from '@fastify/sse'
import batch from './http/routes/batch.ts'
import events from './http/routes/events.ts'
import logs from './http/routes/logs.ts'
import instanceChanges from './http/routes/instance-changes.ts'
import instances from './http/routes/instances.ts'
import metricsRoute from './http/routes/metrics.ts'
import operations from './http/routes/operations.ts'
import controlPlane from './plugins/app/control-plane.ts'
import engine from './plugins/app/engine.ts'
import housekeeping from './plugins/app/housekeeping.ts'
import metrics from './plugins/app/metrics.ts'
import orchestrations from './plugins/app/orchestrations.ts'
import provisioner from './plugins/app/provisioner.ts'
import secrets from './plugins/app/secrets.ts'
import boss from './plugins/external/boss.ts'
import db from './plugins/external/db.ts'

// The package's CommonJS export is the fastify-plugin wrapped plugin (not
// encapsulated, so every route can stream); its types describe it as a namespace.
const sse = sseModule as unknown as typeof import('@fastify/sse').fastifySSE

export interface AppOptions {
  readonly config: Config
  /**
   * Resolved by the caller: DATABASE_URL or the embedded database. null builds
   * the routes without touching any database, to generate the OpenAPI document.
   */
  readonly databaseUrl: string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

const app: FastifyPluginAsync<AppOptions> = async (fastify, opts) => {
  fastify.decorate('config', opts.config)
  // Echo the request id so a client can quote it when reporting a problem.
  fastify.addHook('onRequest', async (request, reply) => { reply.header('x-request-id', request.id) })
  // The API speaks JSON only: anything else is a 415, not a string to validate.
  fastify.removeContentTypeParser('text/plain')
  fastify.removeContentTypeParser('application/json')
  // PATCH bodies are JSON merge patches (RFC 7396): the same parser.
  fastify.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, parseJsonBody)
  await fastify.register(errors)
  await fastify.register(auth, { token: opts.config.auth.token, metricsPublic: opts.config.metricsPublic })
  await fastify.register(swagger)
  await fastify.register(dashboard)
  // Heartbeat comments every 15 s keep proxies (which often close a stream idle for 30–60 s) from closing it.
  await fastify.register(sse, { heartbeatInterval: 15_000 })

  if (opts.databaseUrl !== null) {
    // External: what the app runs on.
    const direct = opts.config.databaseDirectUrl
    await fastify.register(db, { databaseUrl: opts.databaseUrl, directUrl: direct })
    await fastify.register(boss, { databaseUrl: direct ?? opts.databaseUrl })
    // The app's own: each decorates one thing and declares what it needs.
    await fastify.register(secrets)
    await fastify.register(controlPlane)
    await fastify.register(engine)
    await fastify.register(provisioner)
    await fastify.register(metrics)
    await fastify.register(orchestrations)
    await fastify.register(housekeeping)
    await fastify.register(eventHub)
    await fastify.register(statusCache)
  }

  await fastify.register(health)
  await fastify.register(instances)
  await fastify.register(instanceChanges)
  await fastify.register(events)
  await fastify.register(logs)
  await fastify.register(batch)
  await fastify.register(instanceHealth)
  await fastify.register(operations)
  await fastify.register(metricsRoute)
}

export default fp(app, { name: 'toygres' })

/** A caller's X-Request-Id, when it is short and plain enough to repeat in every log line; otherwise none. */
export function acceptedRequestId (header: string | string[] | undefined): string | undefined {
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(header) ? header : undefined
}

/** Fastify server options shared by the server and the tests. */
export const serverOptions = {
  // Request ids: honour a caller's short, plain X-Request-Id, otherwise a fresh UUID.
  requestIdHeader: false as const,
  genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => acceptedRequestId(req.headers['x-request-id']) ?? randomUUID(),
  bodyLimit: 64 * 1024,
  // Boot runs migrations and starts pg-boss against a database that may be busy.
  pluginTimeout: 60_000,
  // A client that sends headers and then nothing must not hold a socket for
  // ever: the whole request must arrive within 30 s, its headers within 10 s,
  // and Node checks both every second (its default is every 30 s).
  requestTimeout: 30_000,
  http: { headersTimeout: 10_000, connectionsCheckingInterval: 1000, maxHeaderSize: 16 * 1024 },
  clientErrorHandler,
  schemaController: schemaController({ cidr: isCidr })
}
