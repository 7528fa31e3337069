// Health SQL: one small function per statement. The verdict lives on
// toygres.instances (its changes become instance events through the trigger
// in 003); each probe's outcome lives in toygres.health_checks (004).
import type { InstanceHealth } from './instances.ts'
import type { Queryable } from './queryable.ts'

/** One health probe's outcome (the time of the check is the database's, set when recorded). */
export interface HealthCheckOutcome {
  ok: boolean
  /** Milliseconds, connect to answer (or to the failure). */
  response_time_ms: number
  error: string | null
}

/** How a recorded check moved the instance's health. */
export interface HealthVerdict {
  previous: InstanceHealth
  current: InstanceHealth
  consecutive_failures: number
  /** When the check started, by the database's clock: now minus its response time. */
  checked_at: Date
}

/**
 * One statement: record the check (with when it was due, if it had a due time), prune this instance's checks past the
 * retention, and move the verdict. Healthy on a success; unhealthy once
 * `threshold` checks in a row failed; below the threshold the verdict stays
 * what it was (unknown until a first success). Applies only while the
 * instance is running (or restarting, or updating); null otherwise (gone, stopped, deleting...).
 */
export async function recordCheck (db: Queryable, instanceId: string, r: HealthCheckOutcome, threshold: number, retentionHours: number, dueAt: Date | null = null): Promise<HealthVerdict | null> {
  const { rows } = await db.query<HealthVerdict>({
    name: 'toygres-record-check',
    text: `WITH at AS (
       SELECT clock_timestamp() - make_interval(secs => $3::double precision / 1000) AS checked_at
     ), prev AS (
       SELECT id, health FROM toygres.instances WHERE id = $1::uuid AND state IN ('running', 'restarting', 'updating') FOR UPDATE
     ), upd AS (
       UPDATE toygres.instances i SET
         consecutive_failures = CASE WHEN $2::boolean THEN 0 ELSE i.consecutive_failures + 1 END,
         health = CASE WHEN $2::boolean THEN 'healthy' WHEN i.consecutive_failures + 1 >= $5::int THEN 'unhealthy' ELSE i.health END,
         last_health_check_at = at.checked_at, last_response_time_ms = $3::double precision
       FROM prev, at WHERE i.id = prev.id
       RETURNING prev.health AS previous, i.health AS current, i.consecutive_failures, at.checked_at
     ), ins AS (
       INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms, error, due_at)
       SELECT $1::uuid, upd.checked_at, $2::boolean, $3::double precision, $4::text, $7::timestamptz FROM upd
     ), pruned AS (
       DELETE FROM toygres.health_checks
       WHERE instance_id = $1::uuid AND checked_at < now() - make_interval(secs => $6::double precision) AND EXISTS (SELECT 1 FROM upd)
     )
     SELECT previous, current, consecutive_failures, checked_at FROM upd`,
    values: [instanceId, r.ok, r.response_time_ms, r.error, threshold, retentionHours * 3600, dueAt]
  })
  return rows[0] ?? null
}

export interface HealthCheckRow {
  id: string
  checked_at: Date
  /** checked_at to the microsecond (ISO 8601), for a cursor: a Date keeps milliseconds. */
  checked_at_us: string
  ok: boolean
  response_time_ms: number
  error: string | null
}

/**
 * The instance's checks, newest first (checked_at, then id), `limit` of
 * them: `before` continues after the last one seen; `since` stops at
 * checks older than that time.
 */
export async function listHealthChecks (db: Queryable, instanceId: string, limit: number, page: { before?: { at: string, id: string } | undefined, since?: string | undefined } = {}): Promise<HealthCheckRow[]> {
  const { rows } = await db.query<HealthCheckRow>(
    `SELECT c.id::text, c.checked_at, to_char(c.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS checked_at_us, c.ok, c.response_time_ms, c.error
     FROM toygres.health_checks c
     WHERE c.instance_id = $1 AND ($3::timestamptz IS NULL OR (c.checked_at, c.id) < ($3, $4::bigint)) AND ($5::timestamptz IS NULL OR c.checked_at >= $5)
     ORDER BY c.checked_at DESC, c.id DESC LIMIT $2`,
    [instanceId, limit, page.before?.at ?? null, page.before?.id ?? null, page.since ?? null])
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
 * verdict (health `unknown`, failures 0): with checks not running we do not
 * know (workers down, a backlog). Not while the instance's monitor holds a
 * live lease: its run is busy, typically restarting the dead server after an
 * unhealthy verdict (up to the start's 30 s deadline), and the verdict it
 * reached still stands. Returns how many were marked.
 */
export async function markStale (db: Queryable, staleSeconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE toygres.instances i SET health = 'unknown', consecutive_failures = 0
     WHERE i.state = 'running' AND i.health <> 'unknown' AND i.last_health_check_at < now() - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM toygres.operations o WHERE o.id = i.health_operation_id AND o.lease_until > now())`, [staleSeconds])
  return rowCount ?? 0
}

/** Running instances and the monitor each records (maybe finished or gone), by id, a page at a time. */
export async function listRunningMonitors (db: Queryable, afterId: string | null, limit: number): Promise<Array<{ id: string, health_operation_id: string | null }>> {
  const { rows } = await db.query<{ id: string, health_operation_id: string | null }>(
    `SELECT id, health_operation_id FROM toygres.instances
     WHERE state = 'running' AND ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2`, [afterId, limit])
  return rows
}
