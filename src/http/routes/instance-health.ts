// GET /instances/{name}/health: the current verdict and the recent checks,
// newest first. Reads only; the checks are written by the health monitor.
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from 'typebox'
import { ToygresError } from '../../errors.ts'
import { listHealthChecks } from '../../health/store.ts'
import { findInstanceByName } from '../../instances/store.ts'
import { InstanceHealth, InstanceState, NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'

const Time = Type.String({ format: 'date-time' })
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

const HealthCheck = Type.Object({
  checked_at: Time,
  ok: Type.Boolean(),
  response_time_ms: Type.Number({ description: 'Connect + SELECT 1, or until the failure' }),
  error: Nullable(Type.String())
})

const InstanceHealthReport = Type.Object({
  name: Type.String(),
  state: InstanceState,
  health: InstanceHealth,
  consecutive_failures: Type.Integer({ minimum: 0 }),
  last_health_check_at: Nullable(Time),
  last_response_time_ms: Nullable(Type.Number()),
  checks: Type.Array(HealthCheck, { description: 'Most recent first, within the retention period' })
}, {
  title: 'InstanceHealthReport',
  examples: [{
    name: 'orders-db', state: 'running', health: 'healthy', consecutive_failures: 0,
    last_health_check_at: '2026-01-01T12:00:30.000Z', last_response_time_ms: 3.2,
    checks: [{ checked_at: '2026-01-01T12:00:30.000Z', ok: true, response_time_ms: 3.2, error: null }]
  }]
})

const HealthQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20, description: 'How many recent checks' }))
})

const iso = (d: Date | null): string | null => d === null ? null : d.toISOString()

const instanceHealth: FastifyPluginAsync = async app => {
  app.get<{ Params: { name: string }, Querystring: Static<typeof HealthQuery> }>('/instances/:name/health', {
    schema: {
      tags: ['instances'],
      operationId: 'getInstanceHealth',
      summary: 'An instance\'s health and its recent health checks',
      description: '`unhealthy` after TOYGRES_HEALTH_FAILURE_THRESHOLD failed checks in a row; `healthy` again on the next success; `unknown` before the first verdict.',
      params: NameParams,
      querystring: HealthQuery,
      response: { 200: InstanceHealthReport, ...problems(400, 401, 404) }
    }
  }, async request => {
    const row = await findInstanceByName(app.db, request.params.name)
    if (!row) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    const checks = await listHealthChecks(app.db, row.id, request.query.limit ?? 20)
    return {
      name: row.name,
      state: row.state,
      health: row.health,
      consecutive_failures: row.consecutive_failures,
      last_health_check_at: iso(row.last_health_check_at),
      last_response_time_ms: row.last_response_time_ms,
      checks: checks.map(c => ({ checked_at: c.checked_at.toISOString(), ok: c.ok, response_time_ms: c.response_time_ms, error: c.error }))
    }
  })
}

export default instanceHealth
