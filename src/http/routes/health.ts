// Liveness and readiness for orchestrators (Kubernetes probes, Docker HEALTHCHECK).
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ProblemRef } from '../schemas/problem.ts'
import { RETRY_AFTER_SECONDS, sendProblem } from '../plugins/errors.ts'

/** Milliseconds a readiness check may take (probes of orchestrators time out at about 1 s by default). */
const READINESS_TIMEOUT_MS = 2000

const Status = Type.Object({ status: Type.String({ examples: ['ok'] }) })

/** `promise`, or a rejection with `message` once `signal` aborts. */
function withDeadline<T> (promise: Promise<T>, signal: AbortSignal, message: string): Promise<T> {
  return Promise.race([promise, new Promise<never>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(new Error(message)), { once: true })
  })])
}

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
    const signal = AbortSignal.timeout(READINESS_TIMEOUT_MS)
    const [database, platform] = await Promise.all([
      withDeadline(app.migrationsApplied(), signal, `did not answer within ${READINESS_TIMEOUT_MS / 1000} s`).then(
        applied => applied ? null : 'database migrations are not all applied: run npm run migrate, or start one replica to apply them',
        (err: Error) => { app.outage.report(err); return `the control plane's database is unreachable: ${err.message}` }),
      app.provisioner.unreachableReason(signal)
    ])
    const reasons = [database, platform].filter((r): r is string => r !== null)
    if (reasons.length === 0) return { status: 'ok' }
    reply.header('retry-after', String(RETRY_AFTER_SECONDS))
    request.log.debug({ reasons }, 'not ready')
    return sendProblem(reply, 'unavailable', reasons.join('; '))
  })
}

export default health
