// SQL for toygres.operation_steps: the checkpoints of each operation.
import type { StoredError } from '../errors.ts'
import type { Queryable } from '../../db/queryable.ts'
import type { StepRecord, StepStatus } from '../types.ts'
import { toJsonb } from './json.ts'

/** The whole history of an operation, in one query, when a run begins. */
export async function selectSteps (db: Queryable, operationId: string): Promise<StepRecord[]> {
  const { rows } = await db.query<StepRecord>({
    name: 'toygres-select-steps',
    text: `SELECT position, name, status, attempts, started_at, finished_at, output, error, progress
     FROM toygres.operation_steps WHERE operation_id = $1 ORDER BY position`,
    values: [operationId]
  })
  return rows
}

export interface CheckpointRow {
  position: number
  name: string
  status: StepStatus
  attempts: number
  startedAt: Date
  finishedAt: Date | null
  output: unknown
  error: StoredError | null
  /** What a running step waits for (StepContext.progress); null otherwise. */
  progress: string | null
}

export interface CheckpointResult { held: boolean, cancelRequested: boolean }

/**
 * Writes one checkpoint (and, for a traced operation, its event), in one statement (one commit in autocommit), only if
 * `lease` still holds the operation. FOR SHARE makes a concurrent claim wait
 * for this write, or makes this write see the claim and insert nothing: a
 * zombie can never write over the new owner's history. The same round trip
 * reports whether cancel() was requested, so a missed NOTIFY costs nothing.
 */
export async function writeCheckpoint (db: Queryable, operationId: string, lease: string, row: CheckpointRow): Promise<CheckpointResult> {
  const { rows } = await db.query<CheckpointResult>({
    name: 'toygres-write-checkpoint',
    text: `WITH op AS (
       SELECT id, cancel_requested_at, trace FROM toygres.operations WHERE id = $1 AND lease = $2 FOR SHARE),
     ins AS (
       INSERT INTO toygres.operation_steps (operation_id, position, name, status, attempts, started_at, finished_at, output, error, progress)
       SELECT id, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM op
       ON CONFLICT (operation_id, position) DO UPDATE
       SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, finished_at = EXCLUDED.finished_at,
           output = EXCLUDED.output, error = EXCLUDED.error, progress = EXCLUDED.progress
       WHERE operation_steps.name = EXCLUDED.name
       RETURNING 1),
     -- Traced operations keep each write of a user-visible step as an event.
     ev AS (
       INSERT INTO toygres.operation_events (operation_id, position, name, status, attempts, progress, error, started_at, finished_at)
       SELECT id, $3, $4, $5, $6, $11, $10, $7, $8 FROM op
       WHERE op.trace AND left($4::text, 1) <> '$' AND EXISTS (SELECT 1 FROM ins))
     SELECT EXISTS (SELECT 1 FROM op) AS held,
            coalesce((SELECT cancel_requested_at IS NOT NULL FROM op), false) AS "cancelRequested",
            -- Wakes whoever follows a traced operation's events (sent on commit).
            (SELECT count(pg_notify('toygres_engine', 'e:' || id::text)) FROM op WHERE op.trace AND left($4::text, 1) <> '$') AS notified`,
    values: [operationId, lease, row.position, row.name, row.status, row.attempts, row.startedAt, row.finishedAt,
      toJsonb(row.output), toJsonb(row.error), row.progress]
  })
  return rows[0] ?? { held: false, cancelRequested: false }
}

export async function deleteSteps (db: Queryable, operationId: string): Promise<void> {
  await db.query('DELETE FROM toygres.operation_steps WHERE operation_id = $1', [operationId])
}
