// Liveness and readiness for orchestrators (Kubernetes probes, Docker HEALTHCHECK).
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ProblemRef } from '../schemas/problem.ts'
import { sendProblem } from '../plugins/errors.ts'

const Status = Type.Object({ status: Type.String({ examples: ['ok'] }) })

const health: FastifyPluginAsync = async app => {
  app.get('/healthz', {
    schema: { tags: ['health'], operationId: 'getLiveness', security: [], summary: 'The process is alive', response: { 200: Status } }
  }, async () => ({ status: 'ok' }))

  app.get('/readyz', {
    schema: {
      tags: ['health'],
      operationId: 'getReadiness',
      security: [],
      summary: 'The database is reachable and every migration is applied',
      response: { 200: Status, 503: ProblemRef }
    }
  }, async (request, reply) => {
    try {
      if (await app.migrationsApplied()) return { status: 'ok' }
      return sendProblem(reply, 'unavailable', 'database migrations are not all applied')
    } catch (err) {
      request.log.warn({ err }, 'readiness check failed')
      return sendProblem(reply, 'unavailable', 'database is unreachable')
    }
  })
}

export default health
