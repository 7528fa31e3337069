// SQL for toygres.operations, one small function per statement.
import type { StoredError } from '../errors.ts'
import type { Queryable } from '../../db/queryable.ts'
import type { Operation } from '../types.ts'
import { toJsonb } from './json.ts'

const COLUMNS = `id, name, key, status, input, output, error, idempotency_key, attempts, generation,
  created_at, started_at, finished_at, cancel_requested_at, cancel_reason`

/** The LISTEN/NOTIFY channel: payload `c:<id>` on cancel, `f:<id>` on finish. */
export const CHANNEL = 'toygres_engine'

// The statements every run executes are named: pg prepares them once per
// connection, so PostgreSQL parses and plans them once, not on every call.

/** Returns null when the idempotency key already exists. */
export async function insertOperation (db: Queryable, op: { id: string, name: string, key: string, input: unknown, idempotencyKey: string | undefined, trace: boolean }): Promise<Operation | null> {
  const { rows } = await db.query<Operation>({
    name: 'toygres-insert-operation',
    text: `INSERT INTO toygres.operations (id, name, key, input, idempotency_key, trace)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING ${COLUMNS}`,
    values: [op.id, op.name, op.key, toJsonb(op.input), op.idempotencyKey ?? null, op.trace]
  })
  return rows[0] ?? null
}

export async function selectOperation (db: Queryable, id: string): Promise<Operation | null> {
  const { rows } = await db.query<Operation>({ name: 'toygres-select-operation', text: `SELECT ${COLUMNS} FROM toygres.operations WHERE id = $1`, values: [id] })
  return rows[0] ?? null
}

export async function selectOperations (db: Queryable, ids: string[]): Promise<Operation[]> {
  if (ids.length === 0) return []
  const { rows } = await db.query<Operation>(`SELECT ${COLUMNS} FROM toygres.operations WHERE id = ANY($1::uuid[])`, [ids])
  return rows
}

export async function selectByIdempotencyKey (db: Queryable, key: string): Promise<Operation | null> {
  const { rows } = await db.query<Operation>(`SELECT ${COLUMNS} FROM toygres.operations WHERE idempotency_key = $1`, [key])
  return rows[0] ?? null
}

/**
 * Takes the lease for a run, in one statement. Refused when the operation is
 * finished; when another job's run holds it (a retry of the same pg-boss job
 * may take over: pg-boss only retries a job whose heartbeat stopped); for a
 * first claim, when an operation on the same key started earlier is still
 * pending; or when another operation holds the key. Two claims on one key collide on the key's row in
 * operation_keys (ON CONFLICT sees the latest committed holder, not the
 * snapshot), and two claims of one operation collide on its row, where the
 * UPDATE re-checks the lease on the newest version: no race lets both win.
 */
export async function claimOperation (db: Queryable, id: string, lease: string, jobId: string): Promise<(Operation & { db_now: Date }) | null> {
  const { rows } = await db.query<Operation & { db_now: Date }>({
    name: 'toygres-claim-operation',
    text: `WITH me AS (
       SELECT o.id, o.key FROM toygres.operations o
       WHERE o.id = $1 AND o.status IN ('pending', 'running') AND (o.lease IS NULL OR o.lease_job = $3)
         -- Only a first claim queues behind earlier starts: a running one holds
         -- its key already, and must get it back after a sleep.
         AND (o.status = 'running' OR NOT EXISTS (
           SELECT 1 FROM toygres.operations b
           WHERE b.key = o.key AND b.status = 'pending' AND (b.created_at, b.id) < (o.created_at, o.id)))),
     hold AS (
       INSERT INTO toygres.operation_keys (key, operation_id) SELECT key, id FROM me
       ON CONFLICT (key) DO UPDATE SET operation_id = EXCLUDED.operation_id
       WHERE operation_keys.operation_id = EXCLUDED.operation_id
       RETURNING operation_id)
     UPDATE toygres.operations o
     SET status = 'running', lease = $2, lease_job = $3, attempts = o.attempts + 1,
         started_at = coalesce(o.started_at, now())
     FROM hold
     WHERE o.id = hold.operation_id AND o.status IN ('pending', 'running') AND (o.lease IS NULL OR o.lease_job = $3)
     RETURNING ${COLUMNS.split(',').map(c => `o.${c.trim()}`).join(', ')}, clock_timestamp() AS db_now`,
    values: [id, lease, jobId]
  })
  return rows[0] ?? null
}

/** A run asking to hold an operation: a fresh lease, for the pg-boss job (this attempt of it) that woke it. */
export interface Claim { operationId: string, lease: string, jobId: string }

export type Claimed = Operation & { lease: string, lease_job: string, db_now: Date }

/**
 * claimOperation for a batch of fetched jobs, in one statement: the same
 * rules per operation, and at most one claim per key (the key's running
 * holder first, else its oldest pending operation), because one INSERT may
 * not touch a key's row twice. The claims not returned are refused; a
 * refused pending operation is woken by the key's holder when it ends.
 */
export async function claimOperations (db: Queryable, claims: Claim[]): Promise<Claimed[]> {
  if (claims.length === 0) return []
  const { rows } = await db.query<Claimed>({
    name: 'toygres-claim-operations',
    text: `WITH c AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS c(id, lease, job)),
     me AS (
       SELECT DISTINCT ON (o.key) o.id, o.key, c.lease, c.job
       FROM c JOIN toygres.operations o ON o.id = c.id
       WHERE o.status IN ('pending', 'running') AND (o.lease IS NULL OR o.lease_job = c.job)
         AND (o.status = 'running' OR NOT EXISTS (
           SELECT 1 FROM toygres.operations b
           WHERE b.key = o.key AND b.status = 'pending' AND (b.created_at, b.id) < (o.created_at, o.id)))
       ORDER BY o.key, o.status = 'running' DESC, o.created_at, o.id),
     hold AS (
       INSERT INTO toygres.operation_keys (key, operation_id) SELECT key, id FROM me ORDER BY key
       ON CONFLICT (key) DO UPDATE SET operation_id = EXCLUDED.operation_id
       WHERE operation_keys.operation_id = EXCLUDED.operation_id
       RETURNING operation_id)
     UPDATE toygres.operations o
     SET status = 'running', lease = me.lease, lease_job = me.job, attempts = o.attempts + 1,
         started_at = coalesce(o.started_at, now())
     FROM hold JOIN me ON me.id = hold.operation_id
     WHERE o.id = hold.operation_id AND o.status IN ('pending', 'running') AND (o.lease IS NULL OR o.lease_job = me.job)
     RETURNING ${COLUMNS.split(',').map(c => `o.${c.trim()}`).join(', ')}, o.lease, o.lease_job, clock_timestamp() AS db_now`,
    values: [claims.map(c => c.operationId), claims.map(c => c.lease), claims.map(c => c.jobId)]
  })
  return rows
}

export interface Finished { key: string, next_id: string | null, next_name: string | null }

/**
 * Ends a run's operation if it still holds the lease, frees its key, and
 * names the oldest pending operation on the key so the caller can wake it in
 * the same transaction.
 */
export async function finishOperation (db: Queryable, id: string, lease: string, status: string, output: unknown, error: StoredError | null): Promise<Finished | null> {
  const { rows } = await db.query<Finished>({
    name: 'toygres-finish-operation',
    text: `WITH done AS (
       UPDATE toygres.operations
       SET status = $3, output = $4, error = $5, finished_at = now(), lease = NULL, lease_job = NULL
       WHERE id = $1 AND lease = $2
       RETURNING id, key, trace, started_at, finished_at),
     ev AS (
       INSERT INTO toygres.operation_events (operation_id, position, name, status, attempts, error, started_at, finished_at)
       SELECT id, -1, '$operation', $3, 1, $5, coalesce(started_at, finished_at), finished_at FROM done WHERE trace),
     freed AS (
       DELETE FROM toygres.operation_keys k USING done WHERE k.key = done.key AND k.operation_id = done.id)
     SELECT done.key, n.id AS next_id, n.name AS next_name, pg_notify('${CHANNEL}', 'f:' || done.id::text)
     FROM done LEFT JOIN LATERAL (
       SELECT p.id, p.name FROM toygres.operations p
       WHERE p.key = done.key AND p.status = 'pending' ORDER BY p.created_at, p.id LIMIT 1) n ON true`,
    values: [id, lease, status, toJsonb(output), toJsonb(error)]
  })
  return rows[0] ?? null
}

/** Gives up the lease without finishing (durable timer, graceful stop). */
export async function releaseLease (db: Queryable, id: string, lease: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE toygres.operations SET lease = NULL, lease_job = NULL WHERE id = $1 AND lease = $2', [id, lease])
  return rowCount === 1
}

/** continueAsNew: fresh input, next generation; the caller deletes the steps. */
export async function renewOperation (db: Queryable, id: string, lease: string, input: unknown): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE toygres.operations SET input = $3, generation = generation + 1, lease = NULL, lease_job = NULL
     WHERE id = $1 AND lease = $2`, [id, lease, toJsonb(input)])
  return rowCount === 1
}

export interface CancelMark { name: string, status: string, attempts: number, idle: boolean }

/** Marks the request and tells running workers at once (NOTIFY is sent on commit). */
export async function markCancelRequested (db: Queryable, id: string, reason: string | null): Promise<CancelMark | null> {
  const { rows } = await db.query<CancelMark>(
    `UPDATE toygres.operations
     SET cancel_requested_at = coalesce(cancel_requested_at, now()), cancel_reason = coalesce(cancel_reason, $2)
     WHERE id = $1 AND status IN ('pending', 'running')
     RETURNING name, status, attempts, lease IS NULL AS idle, pg_notify('${CHANNEL}', 'c:' || id::text)`,
    [id, reason])
  return rows[0] ?? null
}

/** An operation that never ran ends at once; returns the next pending one on its key. */
export async function cancelUnstarted (db: Queryable, id: string, error: StoredError): Promise<Finished | null> {
  const { rows } = await db.query<Finished>(
    `WITH done AS (
       UPDATE toygres.operations SET status = 'cancelled', error = $2, finished_at = now()
       WHERE id = $1 AND status = 'pending' AND attempts = 0
       RETURNING id, key)
     SELECT done.key, n.id AS next_id, n.name AS next_name, pg_notify('${CHANNEL}', 'f:' || done.id::text)
     FROM done LEFT JOIN LATERAL (
       SELECT p.id, p.name FROM toygres.operations p
       WHERE p.key = done.key AND p.status = 'pending' AND p.id <> done.id ORDER BY p.created_at, p.id LIMIT 1) n ON true`,
    [id, toJsonb(error)])
  return rows[0] ?? null
}

/** Which of `ids` are still pending or running. */
export async function selectLive (db: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const { rows } = await db.query<{ id: string }>(
    "SELECT id FROM toygres.operations WHERE id = ANY($1::uuid[]) AND status IN ('pending', 'running')", [ids])
  return rows.map(r => r.id)
}

/** Pending or running operations on `key`, optionally of one orchestration, oldest first. */
export async function selectLiveByKey (db: Queryable, key: string, name: string | undefined): Promise<Operation[]> {
  const { rows } = await db.query<Operation>(
    `SELECT ${COLUMNS} FROM toygres.operations
     WHERE key = $1 AND ($2::text IS NULL OR name = $2) AND status IN ('pending', 'running')
     ORDER BY created_at, id`, [key, name ?? null])
  return rows
}

/** Deletes finished operations (and by cascade their steps) older than the retention; returns how many. */
export async function deleteFinishedBefore (db: Queryable, retentionSeconds: number, limit: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM toygres.operations WHERE id IN (
       SELECT id FROM toygres.operations
       WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < now() - make_interval(secs => $1)
       LIMIT $2)`, [retentionSeconds, limit])
  return rowCount ?? 0
}

export interface TraceEvent {
  id: string
  operation_id: string
  /** -1 for the operation's own end ($operation). */
  position: number
  name: string
  status: string
  attempts: number
  progress: string | null
  error: StoredError | null
  started_at: Date
  finished_at: Date | null
  at: Date
}

/**
 * Events of traced operations after `afterId`, oldest first. One run at a
 * time holds an operation, so one operation's events commit in id order.
 */
export async function selectTraceEvents (db: Queryable, operationIds: string[], afterId: string, limit: number): Promise<TraceEvent[]> {
  if (operationIds.length === 0) return []
  const { rows } = await db.query<TraceEvent>(
    `SELECT id::text, operation_id, position, name, status, attempts, progress, error, started_at, finished_at, at
     FROM toygres.operation_events
     WHERE operation_id = ANY($1::uuid[]) AND id > $2::bigint
     ORDER BY id LIMIT $3`, [operationIds, afterId, limit])
  return rows
}

export interface Abandoned { id: string, name: string, lease: string | null, job_state: string | null }

/**
 * Running operations nothing will ever run again: their run's pg-boss job
 * ended (pg-boss gave up after its retries, or it was cancelled) while the
 * run still held the lease; or they wait between runs (no lease) and no job
 * of theirs is left to wake them. Jobs are in pg-boss's `job` table, whose
 * `data` carries the operation id (tx.ts).
 */
export async function selectAbandoned (db: Queryable, bossSchema: string, limit: number): Promise<Abandoned[]> {
  const { rows } = await db.query<Abandoned>(
    `SELECT o.id, o.name, o.lease::text AS lease, j.state::text AS job_state
     FROM toygres.operations o
     LEFT JOIN ${bossSchema}.job j ON j.id::text = o.lease_job
     WHERE o.status = 'running' AND (
       (o.lease IS NOT NULL AND j.state IN ('failed', 'cancelled'))
       OR (o.lease IS NULL AND NOT EXISTS (
         SELECT 1 FROM ${bossSchema}.job w
         WHERE w.data->>'operationId' = o.id::text AND w.state IN ('created', 'retry', 'active'))))
     LIMIT $1`, [limit])
  return rows
}
