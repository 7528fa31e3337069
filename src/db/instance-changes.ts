// Day-2 metadata: state transitions of running instances, the settings a
// change applied, the password being reset, and forgetting an instance.
// The trigger in 007 refuses any transition the state machine does not allow.
import type { InstanceHealth, InstanceRow, InstanceState } from './instances.ts'
import type { Queryable } from './queryable.ts'

/** Whether a transition happened, and the state the instance was in (null: it is gone). */
export interface Transition { moved: boolean, from: InstanceState | null }

/**
 * Moves the instance to `to` if it is in one of `from`. `health`, when given,
 * is set with it (stopped instances are not unhealthy: they are stopped).
 */
export async function transition (db: Queryable, id: string, from: InstanceState[], to: InstanceState, opts: { error?: { step: string | null, message: string } | null, health?: InstanceHealth } = {}): Promise<Transition> {
  const { rows } = await db.query<{ state: InstanceState, moved: boolean }>(
    `WITH cur AS (SELECT id, state FROM toygres.instances WHERE id = $1 FOR UPDATE),
     moved AS (
       UPDATE toygres.instances i SET state = $3, error = $4::jsonb, health = coalesce($5::text, i.health),
         consecutive_failures = CASE WHEN $5::text IS NULL THEN i.consecutive_failures ELSE 0 END
       FROM cur WHERE i.id = cur.id AND cur.state = ANY($2::text[])
       RETURNING i.id)
     SELECT cur.state, EXISTS (SELECT 1 FROM moved) AS moved FROM cur`,
    [id, from, to, opts.error === undefined || opts.error === null ? null : JSON.stringify(opts.error), opts.health ?? null])
  return { moved: rows[0]?.moved ?? false, from: rows[0]?.state ?? null }
}

/** deleting → delete_failed, with why: the user can DELETE again, or force it. */
export async function markDeleteFailed (db: Queryable, id: string, error: { step: string | null, message: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE toygres.instances SET state = 'delete_failed', error = $2 WHERE id = $1 AND state = 'deleting'", [id, JSON.stringify(error)])
  return rowCount === 1
}

export async function setDeletionProtection (db: Queryable, id: string, on: boolean): Promise<void> {
  await db.query('UPDATE toygres.instances SET deletion_protection = $2 WHERE id = $1', [id, on])
}

/** What a change applied (each field only when given): the instance then shows what the server has. */
export interface AppliedSettings {
  /** Merged into what is recorded (RFC 7396): null removes a parameter. */
  parameters?: Record<string, string | null>
  pending_restart?: boolean
  storage_size_gb?: number
  labels?: Record<string, string>
  allowed_cidrs?: string[] | null
}

export async function recordSettings (db: Queryable, id: string, s: AppliedSettings): Promise<void> {
  await db.query(
    `UPDATE toygres.instances SET
       parameters = CASE WHEN $2::jsonb IS NULL THEN parameters ELSE jsonb_strip_nulls(parameters || $2::jsonb) END,
       pending_restart = coalesce($3::boolean, pending_restart),
       storage_size_gb = coalesce($4::int, storage_size_gb),
       labels = coalesce($5::jsonb, labels),
       allowed_cidrs = CASE WHEN $6::boolean THEN $7::text[] ELSE allowed_cidrs END
     WHERE id = $1`,
    [id, s.parameters ? JSON.stringify(s.parameters) : null, s.pending_restart ?? null, s.storage_size_gb ?? null,
      s.labels ? JSON.stringify(s.labels) : null, s.allowed_cidrs !== undefined, s.allowed_cidrs ?? null])
}

export async function setPendingPassword (db: Queryable, id: string, ciphertext: string): Promise<void> {
  await db.query('UPDATE toygres.instances SET pending_password_ciphertext = $2 WHERE id = $1', [id, ciphertext])
}

export async function readPasswords (db: Queryable, id: string): Promise<{ current: string, pending: string | null } | null> {
  const { rows } = await db.query<{ current: string, pending: string | null }>(
    'SELECT password_ciphertext AS current, pending_password_ciphertext AS pending FROM toygres.instances WHERE id = $1', [id])
  return rows[0] ?? null
}

/** The pending password becomes the password (idempotent: nothing pending, nothing changes). */
export async function commitPendingPassword (db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE toygres.instances SET password_ciphertext = pending_password_ciphertext, pending_password_ciphertext = NULL
     WHERE id = $1 AND pending_password_ciphertext IS NOT NULL`, [id])
  return rowCount === 1
}

export async function discardPendingPassword (db: Queryable, id: string): Promise<void> {
  await db.query('UPDATE toygres.instances SET pending_password_ciphertext = NULL WHERE id = $1', [id])
}

/**
 * Forgets an instance whose resources cannot be reached (DELETE ?force=true):
 * records what may remain, then removes the row (and its history).
 */
export async function forgetInstance (db: Queryable, row: InstanceRow, provisioner: string, mayRemain: string[], reason: string): Promise<void> {
  await db.query(
    `INSERT INTO toygres.forgotten_instances (instance_id, name, namespace, provisioner, state, may_remain, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [row.id, row.name, row.namespace, provisioner, row.state, JSON.stringify(mayRemain), reason])
  await db.query('DELETE FROM toygres.instances WHERE id = $1', [row.id])
}
