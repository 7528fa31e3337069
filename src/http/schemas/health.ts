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
  checks: Type.Array(HealthCheck, { description: 'Most recent first (checked_at, then the order they were recorded), within the retention period' }),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the checks before these; null when there are no more (none older, or none since `since`)' })
}, {
  title: 'InstanceHealthReport',
  examples: [{
    name: 'orders-db', state: 'running', health: 'healthy', consecutive_failures: 0,
    last_health_check_at: '2026-01-01T12:00:30.000Z', last_response_time_ms: 3.2,
    checks: [{ checked_at: '2026-01-01T12:00:30.000Z', ok: true, response_time_ms: 3.2, error: null }],
    next_cursor: null
  }]
})
export type InstanceHealthReportDto = Static<typeof InstanceHealthReport>

export const HealthQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20, description: 'How many recent checks' })),
  cursor: Type.Optional(Type.String({ maxLength: 300, description: 'A `next_cursor`: the checks before the ones it came with' })),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only checks at or after this time' }))
}, { additionalProperties: false })
