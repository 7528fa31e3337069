// Health SQL: one small function per statement. The verdict lives on
// toygres.instances (its changes become instance events through the trigger
// in 003); each probe's outcome lives in toygres.health_checks (004).
import type { Queryable } from '../db/queryable.ts'
import type { InstanceHealth, InstanceState } from '../instances/store.ts'

export interface ProbeTarget {
  state: InstanceState
  ip_connection_string: string | null
  password_ciphertext: string
}

/** What a probe needs, in one read; null when the instance is gone. */
export async function readProbeTarget (db: Queryable, instanceId: string): Promise<ProbeTarget | null> {
  // Named: every probe runs it, so it is prepared once per connection.
  const { rows } = await db.query<ProbeTarget>({
    name: 'toygres-read-probe-target',
    text: 'SELECT state, ip_connection_string, password_ciphertext FROM toygres.instances WHERE id = $1',
    values: [instanceId]
  })
  return rows[0] ?? null
}

export interface CheckResult {
  ok: boolean
  /** ISO time the probe started. */
  checked_at: string
  response_time_ms: number
  error: string | null
}

export interface Verdict {
  previous: InstanceHealth
  current: InstanceHealth
  consecutive_failures: number
}

/**
 * One statement: record the check, prune this instance's checks past the
 * retention, and move the verdict. Healthy on a success; unhealthy once
 * `threshold` checks in a row failed; below the threshold the verdict stays
 * what it was (unknown until a first success). Applies only while the
 * instance is running; null otherwise (gone, deleting...).
 */
export async function recordCheck (db: Queryable, instanceId: string, r: CheckResult, threshold: number, retentionHours: number): Promise<Verdict | null> {
  const { rows } = await db.query<Verdict>({
    name: 'toygres-record-check',
    text: `WITH prev AS (
       SELECT id, health FROM toygres.instances WHERE id = $1::uuid AND state = 'running' FOR UPDATE
     ), upd AS (
       UPDATE toygres.instances i SET
         consecutive_failures = CASE WHEN $2::boolean THEN 0 ELSE i.consecutive_failures + 1 END,
         health = CASE WHEN $2::boolean THEN 'healthy' WHEN i.consecutive_failures + 1 >= $6::int THEN 'unhealthy' ELSE i.health END,
         last_health_check_at = $3::timestamptz, last_response_time_ms = $4::double precision
       FROM prev WHERE i.id = prev.id
       RETURNING prev.health AS previous, i.health AS current, i.consecutive_failures
     ), ins AS (
       INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms, error)
       SELECT $1::uuid, $3::timestamptz, $2::boolean, $4::double precision, $5::text FROM upd
     ), pruned AS (
       DELETE FROM toygres.health_checks
       WHERE instance_id = $1::uuid AND checked_at < now() - make_interval(secs => $7::double precision) AND EXISTS (SELECT 1 FROM upd)
     )
     SELECT previous, current, consecutive_failures FROM upd`,
    values: [instanceId, r.ok, r.checked_at, r.response_time_ms, r.error, threshold, retentionHours * 3600]
  })
  return rows[0] ?? null
}

export interface HealthCheckRow {
  checked_at: Date
  ok: boolean
  response_time_ms: number
  error: string | null
}

export async function listHealthChecks (db: Queryable, instanceId: string, limit: number): Promise<HealthCheckRow[]> {
  const { rows } = await db.query<HealthCheckRow>(
    `SELECT checked_at, ok, response_time_ms, error FROM toygres.health_checks
     WHERE instance_id = $1 ORDER BY checked_at DESC, id DESC LIMIT $2`, [instanceId, limit])
  return rows
}

/** Every instance's checks past the retention (instances no longer checked keep none either). */
export async function pruneHealthChecks (db: Queryable, retentionHours: number): Promise<number> {
  const { rowCount } = await db.query(
    'DELETE FROM toygres.health_checks WHERE checked_at < now() - make_interval(secs => $1)', [retentionHours * 3600])
  return rowCount ?? 0
}

/**
 * Running instances whose last check is older than `staleSeconds` lose their
 * verdict: with checks not running we do not know (workers down, a backlog).
 */
export async function markStale (db: Queryable, staleSeconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE toygres.instances SET health = 'unknown', consecutive_failures = 0
     WHERE state = 'running' AND health <> 'unknown' AND last_health_check_at < now() - make_interval(secs => $1)`, [staleSeconds])
  return rowCount ?? 0
}

export interface Unmonitored { id: string, health_operation_id: string | null }

/**
 * Running instances without a live monitor: none recorded, or the recorded
 * operation finished (failed, cancelled) or vanished. Reads the engine's
 * operations table (same schema): one join instead of one call per instance.
 */
export async function findUnmonitored (db: Queryable, limit: number): Promise<Unmonitored[]> {
  const { rows } = await db.query<Unmonitored>(
    `SELECT i.id, i.health_operation_id FROM toygres.instances i
     LEFT JOIN toygres.operations o ON o.id = i.health_operation_id
     WHERE i.state = 'running' AND (o.id IS NULL OR o.status NOT IN ('pending', 'running'))
     ORDER BY i.id LIMIT $1`, [limit])
  return rows
}

export interface MonitoredInstance { name: string, namespace: string, health_operation_id: string | null, live: boolean }

/** A running instance, locked, with its recorded monitor and whether that one is live; null when not running. */
export async function lockRunningInstance (db: Queryable, instanceId: string): Promise<MonitoredInstance | null> {
  const { rows } = await db.query<MonitoredInstance>(
    `SELECT i.name, i.namespace, i.health_operation_id, coalesce(o.status IN ('pending', 'running'), false) AS live
     FROM toygres.instances i LEFT JOIN toygres.operations o ON o.id = i.health_operation_id
     WHERE i.id = $1 AND i.state = 'running' FOR UPDATE OF i`, [instanceId])
  return rows[0] ?? null
}

/** Live monitors on an instance's key (normally one; the reconciler's safety net may race a delete). */
export async function liveMonitorIds (db: Queryable, key: string, name: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM toygres.operations WHERE key = $1 AND name = $2 AND status IN ('pending', 'running')", [key, name])
  return rows.map(r => r.id)
}
