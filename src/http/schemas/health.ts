// GET /instances/{name}/health: the verdict and the recent checks.
import { Type, type Static } from 'typebox'
import { Nullable, Time } from './common.ts'
import { InstanceHealth, InstanceState } from './instances.ts'

export const HealthCheck = Type.Object({
  checked_at: Time,
  ok: Type.Boolean(),
  response_time_ms: Type.Number({ description: 'Connect + SELECT 1, or until the failure' }),
  error: Nullable(Type.String())
})

export const InstanceHealthReport = Type.Object({
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
export type InstanceHealthReportDto = Static<typeof InstanceHealthReport>

export const HealthQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20, description: 'How many recent checks' }))
})
