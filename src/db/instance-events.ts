// The instance's own history (state and health changes, written by the
// trigger in 003) and the operations that acted on it (007).
import type { Queryable } from './queryable.ts'

export interface InstanceEvent {
  id: string
  instance_id: string
  name: string
  /** removed: the instance is gone (its last event). */
  kind: 'state' | 'health' | 'removed'
  from_value: string | null
  to_value: string
  /** On a state change: the instance's error at that moment (why it failed). */
  detail: unknown
  at: Date
}

/** Newest first, for the instance's history. */
export async function listInstanceEvents (db: Queryable, instanceId: string, limit = 100): Promise<InstanceEvent[]> {
  const { rows } = await db.query<InstanceEvent>(
    'SELECT e.id::text, e.instance_id, e.name, e.kind, e.from_value, e.to_value, e.detail, e.at FROM toygres.instance_events e WHERE e.instance_id = $1 ORDER BY e.id DESC LIMIT $2', [instanceId, limit])
  return rows
}

/**
 * Events after id `afterId`, oldest first: of one instance (whose events
 * commit in id order: they are written under its row lock), or, with
 * instanceId null, of every instance, where a row is read once no older
 * transaction can still commit a smaller id (or it is 5 s old).
 */
export async function instanceEventsSince (db: Queryable, instanceId: string | null, afterId: string, limit: number): Promise<InstanceEvent[]> {
  const { rows } = await db.query<InstanceEvent & { settled: boolean }>(
    `SELECT e.id::text, e.instance_id, e.name, e.kind, e.from_value, e.to_value, e.detail, e.at,
       $1::uuid IS NOT NULL OR e.xid < pg_snapshot_xmin(pg_current_snapshot()) OR e.at < now() - interval '5 seconds' AS settled
     FROM toygres.instance_events e
     WHERE ($1::uuid IS NULL OR e.instance_id = $1) AND e.id > $2::bigint
     ORDER BY e.id LIMIT $3`, [instanceId, afterId, limit])
  // Up to the first row that is not settled: a later id must not move the cursor past it.
  const settled = rows.findIndex(r => !r.settled)
  return (settled === -1 ? rows : rows.slice(0, settled)).map(({ settled: _s, ...e }) => e)
}

/** The newest event id (the cursor of "from now on"). */
export async function latestInstanceEventId (db: Queryable): Promise<string> {
  const { rows } = await db.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM toygres.instance_events')
  return rows[0]!.id
}

/** History (events, operation links) of instances removed more than `retentionHours` ago; returns how many events. */
export async function pruneRemovedInstanceHistory (db: Queryable, retentionHours: number): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH gone AS (
       SELECT instance_id FROM toygres.instance_events WHERE kind = 'removed' AND at < now() - make_interval(hours => $1)),
     links AS (DELETE FROM toygres.instance_operations WHERE instance_id IN (SELECT instance_id FROM gone)),
     events AS (DELETE FROM toygres.instance_events WHERE instance_id IN (SELECT instance_id FROM gone) RETURNING 1)
     SELECT count(*)::int AS n FROM events`, [retentionHours])
  return rows[0]!.n
}

export type OperationKind = 'create' | 'delete' | 'restart' | 'stop' | 'start' | 'reset-password' | 'update'

/** Records that `operationId` acts on the instance (in the transaction that started it). */
export async function linkOperation (db: Queryable, instanceId: string, operationId: string, kind: OperationKind): Promise<void> {
  await db.query(
    'INSERT INTO toygres.instance_operations (instance_id, operation_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [instanceId, operationId, kind])
}

export interface LinkedOperation {
  operation_id: string
  kind: OperationKind
  created_at: Date
  /** created_at to the microsecond (ISO 8601), for a cursor: a Date keeps milliseconds. */
  created_at_us: string
}

/** The instance's operations, newest first; `before` continues a page (created_at, operation_id of the last one seen). */
export async function listLinkedOperations (db: Queryable, instanceId: string, limit: number, before?: { at: string, id: string }): Promise<LinkedOperation[]> {
  const { rows } = await db.query<LinkedOperation>(
    `SELECT operation_id, kind, created_at, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_us
     FROM toygres.instance_operations
     WHERE instance_id = $1 AND ($2::timestamptz IS NULL OR (created_at, operation_id) < ($2::timestamptz, $3::uuid))
     ORDER BY created_at DESC, operation_id DESC LIMIT $4`, [instanceId, before?.at ?? null, before?.id ?? null, limit])
  return rows
}

/** Every operation id of the instance (for its event stream). */
export async function linkedOperationIds (db: Queryable, instanceId: string): Promise<string[]> {
  const { rows } = await db.query<{ operation_id: string }>('SELECT operation_id FROM toygres.instance_operations WHERE instance_id = $1', [instanceId])
  return rows.map(r => r.operation_id)
}
