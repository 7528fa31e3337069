// Idempotency-Key records for POST /instances (kept 24 h, pruned by the housekeeping job).
import type { Queryable } from './queryable.ts'

export interface IdempotencyRecord {
  key: string
  request_hmac: string
  instance_id: string
  password_generated: boolean
}

/** Claims the key; false when it already exists (a concurrent claim waits for the first to commit). */
export async function insertIdempotencyKey (db: Queryable, r: IdempotencyRecord): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO toygres.idempotency_keys (key, request_hmac, instance_id, password_generated)
     VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`,
    [r.key, r.request_hmac, r.instance_id, r.password_generated])
  return rowCount === 1
}

export async function findIdempotencyKey (db: Queryable, key: string): Promise<IdempotencyRecord | null> {
  const { rows } = await db.query<IdempotencyRecord>(
    'SELECT key, request_hmac, instance_id, password_generated FROM toygres.idempotency_keys WHERE key = $1', [key])
  return rows[0] ?? null
}

export async function pruneIdempotencyKeys (db: Queryable, olderThanHours: number): Promise<number> {
  const { rowCount } = await db.query(
    "DELETE FROM toygres.idempotency_keys WHERE created_at < now() - make_interval(hours => $1)", [olderThanHours])
  return rowCount ?? 0
}
