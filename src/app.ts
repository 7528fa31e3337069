// The whole control plane as one Fastify plugin. server.ts only listens;
// tests register this same plugin and use inject() or listen on port 0.
import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from './config.ts'
import db from './db/plugin.ts'
import errors from './http/plugins/errors.ts'
import swagger from './http/plugins/swagger.ts'
import health from './http/routes/health.ts'

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
  await fastify.register(errors)
  if (opts.databaseUrl !== null) {
    await fastify.register(db, { databaseUrl: opts.databaseUrl })
  }
  await fastify.register(swagger)
  await fastify.register(health)
}

export default fp(app, { name: 'toygres' })

/** Fastify server options shared by the server and the tests. */
export const serverOptions = {
  // Request ids: honour a caller's X-Request-Id, otherwise a fresh UUID.
  requestIdHeader: 'x-request-id',
  genReqId: () => randomUUID(),
  bodyLimit: 64 * 1024,
  ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' as const, useDefaults: true, allErrors: true } }
}
