// Row → response mappings, in one place.
import type { Engine, Operation, StepRecord } from '../engine/index.ts'
import type { Queryable } from '../db/queryable.ts'
import type { HealthCheckRow } from '../db/health-checks.ts'
import type { InstanceRow } from '../db/instances.ts'
import { operationKinds } from '../orchestrations/names.ts'
import type { InstanceHealthReportDto } from './schemas/health.ts'
import type { InstanceDto } from './schemas/instances.ts'
import type { OperationDto } from './schemas/operations.ts'

// Recorded values (ctx.now(), ctx.uuid()) replay deterministically but are not steps a user ran.
const HIDDEN_RECORDS = new Set(['$now', '$uuid'])

const iso = (d: Date | null): string | null => d === null ? null : d.toISOString()

export function operationView (op: Operation, steps: StepRecord[]): OperationDto {
  return {
    id: op.id,
    name: op.name,
    key: op.key,
    status: op.status,
    error: op.error as OperationDto['error'],
    ...(op.status === 'succeeded' ? { output: op.output } : {}),
    created_at: op.created_at.toISOString(),
    started_at: iso(op.started_at),
    finished_at: iso(op.finished_at),
    cancel_requested_at: iso(op.cancel_requested_at),
    steps: steps.filter(s => !HIDDEN_RECORDS.has(s.name)).map(s => ({
      position: s.position,
      name: s.name,
      status: s.status,
      attempts: s.attempts,
      started_at: s.started_at.toISOString(),
      finished_at: iso(s.finished_at),
      error: s.error as { message: string } | null,
      progress: s.progress,
      ...(s.status === 'succeeded' ? { output: s.output } : {})
    }))
  }
}

export async function loadOperationView (engine: Engine, db: Queryable, id: string | null): Promise<OperationDto | null> {
  if (!id) return null
  const [op, steps] = await Promise.all([engine.getOperation(id, db), engine.getSteps(id, db)])
  return op ? operationView(op, steps) : null
}

const KIND_OF = new Map<string, string>(Object.entries(operationKinds).map(([kind, name]) => [name, kind]))

/**
 * A list item: the operation without its steps, its kind, and the instance
 * it acts on, by the name its input recorded when it started (every
 * orchestration's input names its instance; the name outlives the row).
 */
export function listedOperationView (op: Operation): OperationDto & { kind: string, instance: string | null } {
  const input = op.input as { name?: unknown } | null
  return {
    ...operationView(op, []),
    kind: KIND_OF.get(op.name) ?? op.name.slice(op.name.lastIndexOf(':') + 1),
    instance: typeof input?.name === 'string' ? input.name : null
  }
}

/** What the current operation waits for now: its running step's latest reason, while it is under way. */
function waitingFor (operation: OperationDto | null): string | null {
  if (!operation || (operation.status !== 'running' && operation.status !== 'pending')) return null
  const steps = operation.steps as Array<{ status: string, progress: string | null }>
  const step = steps.findLast(s => s.status === 'running' || s.status === 'retrying')
  return step?.progress ?? null
}

export function instanceView (row: InstanceRow, operation: OperationDto | null, caCertificate?: string): InstanceDto {
  return {
    name: row.name,
    namespace: row.namespace,
    state: row.state,
    health: row.health,
    postgres_version: row.postgres_version,
    storage_size_gb: row.storage_size_gb,
    use_load_balancer: row.use_load_balancer,
    dns_label: row.dns_label,
    ip_connection_string: row.ip_connection_string,
    dns_connection_string: row.dns_connection_string,
    external_ip: row.external_ip,
    dns_name: row.dns_name,
    server_version: row.server_version,
    deployment_time_seconds: row.deployment_time_seconds,
    error: row.error,
    last_health_check_at: iso(row.last_health_check_at),
    last_response_time_ms: row.last_response_time_ms,
    waiting_for: waitingFor(operation),
    ...(caCertificate ? { ca_certificate: caCertificate } : {}),
    labels: row.labels,
    allowed_cidrs: row.allowed_cidrs,
    deletion_protection: row.deletion_protection,
    parameters: row.parameters,
    pending_restart: row.pending_restart,
    operation,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString()
  }
}

export function healthReportView (row: InstanceRow, checks: HealthCheckRow[], nextCursor: string | null): InstanceHealthReportDto {
  return {
    name: row.name,
    state: row.state,
    health: row.health,
    consecutive_failures: row.consecutive_failures,
    last_health_check_at: iso(row.last_health_check_at),
    last_response_time_ms: row.last_response_time_ms,
    checks: checks.map(c => ({ checked_at: c.checked_at.toISOString(), ok: c.ok, response_time_ms: c.response_time_ms, error: c.error })),
    next_cursor: nextCursor
  }
}

/** A ready-to-paste URI: the connection string with the password percent-encoded (RFC 3986 userinfo). */
export function connectionUri (connectionString: string | null, password: string): string | null {
  if (!connectionString) return null
  const url = new URL(connectionString)
  url.password = encodeURIComponent(password)
  return url.toString()
}
