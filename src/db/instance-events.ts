// The instance's own history (state and health changes, written by the
// trigger in 003) and the operations that acted on it (007).
import type { Queryable } from './queryable.ts'

export interface InstanceEvent {
  id: string
  kind: 'state' | 'health'
  from_value: string | null
  to_value: string
  /** On a state change: the instance's error at that moment (why it failed). */
  detail: unknown
  at: Date
}

/** Newest first, for the instance's history. */
export async function listInstanceEvents (db: Queryable, instanceId: string, limit = 100): Promise<InstanceEvent[]> {
  const { rows } = await db.query<InstanceEvent>(
    'SELECT id::text, kind, from_value, to_value, detail, at FROM toygres.instance_events WHERE instance_id = $1 ORDER BY id DESC LIMIT $2', [instanceId, limit])
  return rows
}

/**
 * Events after id `afterId`, oldest first, for a stream: only rows written
 * by transactions older than every one still open, so following ids never
 * skips a row that commits late.
 */
export async function instanceEventsSince (db: Queryable, instanceId: string, afterId: string, limit: number): Promise<InstanceEvent[]> {
  const { rows } = await db.query<InstanceEvent>(
    `SELECT id::text, kind, from_value, to_value, detail, at FROM toygres.instance_events
     WHERE instance_id = $1 AND id > $2::bigint AND xid < pg_snapshot_xmin(pg_current_snapshot())
     ORDER BY id LIMIT $3`, [instanceId, afterId, limit])
  return rows
}

export type OperationKind = 'create' | 'delete' | 'restart' | 'stop' | 'start' | 'reset-password' | 'update'

/** Records that `operationId` acts on the instance (in the transaction that started it). */
export async function linkOperation (db: Queryable, instanceId: string, operationId: string, kind: OperationKind): Promise<void> {
  await db.query(
    'INSERT INTO toygres.instance_operations (instance_id, operation_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [instanceId, operationId, kind])
}

export interface LinkedOperation { operation_id: string, kind: OperationKind, created_at: Date }

/** The instance's operations, newest first; `before` continues a page (created_at, operation_id of the last one seen). */
export async function listLinkedOperations (db: Queryable, instanceId: string, limit: number, before?: { at: string, id: string }): Promise<LinkedOperation[]> {
  const { rows } = await db.query<LinkedOperation>(
    `SELECT operation_id, kind, created_at FROM toygres.instance_operations
     WHERE instance_id = $1 AND ($2::timestamptz IS NULL OR (created_at, operation_id) < ($2::timestamptz, $3::uuid))
     ORDER BY created_at DESC, operation_id DESC LIMIT $4`, [instanceId, before?.at ?? null, before?.id ?? null, limit])
  return rows
}

/** Every operation id of the instance (for its event stream). */
export async function linkedOperationIds (db: Queryable, instanceId: string): Promise<string[]> {
  const { rows } = await db.query<{ operation_id: string }>('SELECT operation_id FROM toygres.instance_operations WHERE instance_id = $1', [instanceId])
  return rows.map(r => r.operation_id)
}
