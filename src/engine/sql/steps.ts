// SQL for toygres.operation_steps: the checkpoints of each operation.
import type { StoredError } from '../errors.ts'
import type { Queryable } from '../../db/queryable.ts'
import type { StepRecord, StepStatus } from '../types.ts'
import { toJsonb } from './json.ts'

/** The histories of the operations a batch of runs claimed, by operation id, in one query. */
export async function selectHistories (db: Queryable, operationIds: string[]): Promise<Map<string, StepRecord[]>> {
  const histories = new Map<string, StepRecord[]>(operationIds.map(id => [id, []]))
  if (operationIds.length === 0) return histories
  const { rows } = await db.query<StepRecord & { operation_id: string }>({
    name: 'toygres-select-histories',
    text: `SELECT operation_id, position, name, status, attempts, started_at, finished_at, output, error, progress
     FROM toygres.operation_steps WHERE operation_id = ANY($1::uuid[]) ORDER BY operation_id, position`,
    values: [operationIds]
  })
  for (const { operation_id: id, ...step } of rows) histories.get(id)!.push(step)
  return histories
}

/** The whole history of an operation, in one query. */
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
 * Checkpoint rows of one run, written only while `lease` still holds the
 * operation; with `release`, the run also gives up its lease in the same
 * statement, to run again at `wakeAt` (a durable timer), or at once when a
 * cancel was requested meanwhile.
 */
export interface CheckpointWrite { operationId: string, lease: string, rows: CheckpointRow[], release?: { wakeAt: Date } }

/**
 * Writes the checkpoints of any number of runs in one statement (one commit
 * in autocommit: group commit), each operation's rows only if its lease
 * still holds it; returns each operation's outcome, by id. FOR SHARE makes a
 * concurrent claim wait for this write, or makes this write see the claim
 * (EvalPlanQual re-checks the lease on the newest row) and insert nothing for
 * that operation: a zombie can never write over the new owner's history.
 * Traced operations also get each user-visible row as an event, and a NOTIFY.
 * The same round trip reports whether cancel() was requested, so a missed
 * NOTIFY costs nothing. Rows for one (operation, position) must be unique.
 */
export async function writeCheckpoints (db: Queryable, writes: CheckpointWrite[]): Promise<Map<string, CheckpointResult>> {
  const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], []]
  for (const w of writes) {
    for (const r of w.rows) {
      const values = [w.operationId, w.lease, r.position, r.name, r.status, r.attempts, r.startedAt, r.finishedAt, toJsonb(r.output), toJsonb(r.error), r.progress]
      values.forEach((v, i) => cols[i]!.push(v))
    }
  }
  const released = writes.filter(w => w.release)
  const { rows } = await db.query<{ id: string, cancel_requested: boolean }>({
    name: 'toygres-write-checkpoints',
    text: `WITH r AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::int[], $7::timestamptz[],
                            $8::timestamptz[], $9::jsonb[], $10::jsonb[], $11::text[])
         AS r(operation_id, lease, position, name, status, attempts, started_at, finished_at, output, error, progress)),
     op AS (
       SELECT id, cancel_requested_at, trace FROM toygres.operations
       WHERE (id, lease) IN (SELECT DISTINCT operation_id, lease FROM r) FOR SHARE),
     ins AS (
       INSERT INTO toygres.operation_steps (operation_id, position, name, status, attempts, started_at, finished_at, output, error, progress)
       SELECT r.operation_id, r.position, r.name, r.status, r.attempts, r.started_at, r.finished_at, r.output, r.error, r.progress
       FROM r JOIN op ON op.id = r.operation_id
       ON CONFLICT (operation_id, position) DO UPDATE
       SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, finished_at = EXCLUDED.finished_at,
           output = EXCLUDED.output, error = EXCLUDED.error, progress = EXCLUDED.progress
       WHERE operation_steps.name = EXCLUDED.name
       RETURNING operation_id, position),
     -- Traced operations keep each write of a user-visible step as an event.
     ev AS (
       INSERT INTO toygres.operation_events (operation_id, position, name, status, attempts, progress, error, started_at, finished_at)
       SELECT r.operation_id, r.position, r.name, r.status, r.attempts, r.progress, r.error, r.started_at, r.finished_at
       FROM r JOIN op ON op.id = r.operation_id JOIN ins ON ins.operation_id = r.operation_id AND ins.position = r.position
       WHERE op.trace AND left(r.name, 1) <> '$'
       ORDER BY r.operation_id, r.position),
     rel AS (
       UPDATE toygres.operations o
       SET lease = NULL, lease_job = NULL, lease_until = NULL, takeovers = 0,
           wake_at = CASE WHEN o.cancel_requested_at IS NOT NULL THEN least(x.wake_at, now()) ELSE x.wake_at END
       FROM unnest($12::uuid[], $13::timestamptz[]) AS x(id, wake_at) JOIN op ON op.id = x.id
       WHERE o.id = x.id
       RETURNING CASE WHEN o.wake_at <= now() THEN pg_notify('toygres_engine', 'w:' || o.name) END AS woken)
     SELECT op.id, op.cancel_requested_at IS NOT NULL AS cancel_requested,
            -- Wakes whoever follows a traced operation's events (sent on commit).
            CASE WHEN op.trace AND EXISTS (SELECT 1 FROM r WHERE r.operation_id = op.id AND left(r.name, 1) <> '$')
              THEN pg_notify('toygres_engine', 'e:' || op.id::text) END AS notified,
            (SELECT count(woken) FROM rel) AS released
     FROM op`,
    values: [...cols, released.map(w => w.operationId), released.map(w => w.release!.wakeAt)]
  })
  const held = new Map(rows.map(r => [r.id, { held: true, cancelRequested: r.cancel_requested }]))
  return new Map(writes.map(w => [w.operationId, held.get(w.operationId) ?? { held: false, cancelRequested: false }]))
}

/** One run's rows (see writeCheckpoints). */
export async function writeCheckpoint (db: Queryable, operationId: string, lease: string, ...rows: CheckpointRow[]): Promise<CheckpointResult> {
  return (await writeCheckpoints(db, [{ operationId, lease, rows }])).get(operationId)!
}

export async function deleteSteps (db: Queryable, operationId: string): Promise<void> {
  await db.query('DELETE FROM toygres.operation_steps WHERE operation_id = $1', [operationId])
}
