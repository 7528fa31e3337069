// The one statement every run writes through: checkpoint rows, and how the
// run ends (a timer or a hand-back: the lease given up with a wake-up time;
// or the operation's end), for any number of runs at once (group commit,
// run-writer.ts). Each run's part is fenced by its own lease.
import type { StoredError } from '../errors.ts'
import type { Queryable } from '../../db/queryable.ts'
import type { Operation, StepStatus } from '../types.ts'
import { toJsonb } from './json.ts'
import { CHANNEL } from './channel.ts'
import { RETURNED, claimedFromJson, type Claimed } from './columns.ts'

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

/** How a run ends, in the same statement as its last checkpoints. */
export type RunEnd =
  /** Give up the lease, to run again at `wakeAt` (a durable timer, a hand-back), or at once when a cancel landed meanwhile. */
  | { kind: 'release', wakeAt: Date }
  /**
   * The operation ends: its result, and its key freed with the oldest
   * pending operation on the key made due now; or, with `takeNext`, that
   * operation claimed for this process when it is of the same orchestration
   * (the key passes straight to it: no fetch, and the ending run's slot runs
   * it).
   */
  | { kind: 'finish', status: 'succeeded' | 'failed' | 'cancelled', output: unknown, error: StoredError | null, takeNext?: { leaseSeconds: number } }

/** One run's rows (unique by position) and, optionally, its end; written only while `lease` holds the operation. */
export interface RunWrite { operationId: string, lease: string, rows: CheckpointRow[], end?: RunEnd }

export interface RunWriteResult {
  /** The lease still held: everything of this write landed. False: nothing did (a zombie). */
  held: boolean
  /** cancel() was requested (so a missed NOTIFY costs nothing). */
  cancelRequested: boolean
  /** For a `finish` that landed: the operation's columns that its run changed, as committed (so a waiter here needs no read). */
  finished?: FinishedColumns
  /** For a `finish` with `takeNext`: the next operation on its key, claimed (leased) for a run in this process. */
  next?: Claimed
}

/** The columns of an operation that can change while its run holds it, as its finish committed them. */
export type FinishedColumns = Pick<Operation, 'status' | 'output' | 'error' | 'started_at' | 'finished_at' | 'cancel_requested_at' | 'cancel_reason'>

/**
 * Writes any number of runs' rows and ends in one statement (one commit in
 * autocommit); returns each write's outcome, in the order of `writes`. The lease check
 * locks each operation row FOR SHARE, so a concurrent claim waits for this
 * write, or this write sees the claim (EvalPlanQual re-checks the lease on
 * the newest row version) and writes nothing for that operation: a zombie
 * never writes over the new owner's history. Traced operations get each
 * user-visible row, then their end, as events in that order, and a NOTIFY;
 * a finish NOTIFYs waiters ('f:'), and whatever became due now wakes the
 * fetchers ('w:'). A finish with `takeNext` whose key's next operation is
 * of its own orchestration passes the key to it and claims it (`next`):
 * the run's slot runs it with no fetch, as a fetch would have (its first
 * run, the key's start order kept). Throws on a database error (the caller
 * retries each write alone, so one bad row fails only its run).
 * `unwokenKeys`: keys it freed and woke nothing on that may still have an
 * operation to wake: one whose claim was refused while the key was held
 * (claimOperations marks the key's row contended; the statement's snapshot,
 * taken before any lock wait, may predate that operation, but its DELETE
 * reads the row's newest version), or one whose row another transaction had
 * locked. The caller passes them to wakeNextOnKeys once this has committed.
 * A key nobody was refused on needs no second look.
 */
export async function writeRuns (db: Queryable, writes: RunWrite[]): Promise<{ results: RunWriteResult[], unwokenKeys: string[] }> {
  const rows: unknown[][] = Array.from({ length: 11 }, () => [])
  for (const w of writes) {
    for (const r of w.rows) {
      const values = [w.operationId, w.lease, r.position, r.name, r.status, r.attempts, r.startedAt, r.finishedAt, toJsonb(r.output), toJsonb(r.error), r.progress]
      values.forEach((v, i) => rows[i]!.push(v))
    }
  }
  const ends: unknown[][] = Array.from({ length: 8 }, () => [])
  for (const w of writes) {
    const e = w.end
    const values = [w.operationId, w.lease, e?.kind ?? null, e?.kind === 'release' ? e.wakeAt : null,
      e?.kind === 'finish' ? e.status : null, e?.kind === 'finish' ? toJsonb(e.output) : null, e?.kind === 'finish' ? toJsonb(e.error) : null,
      e?.kind === 'finish' ? e.takeNext?.leaseSeconds ?? null : null]
    values.forEach((v, i) => ends[i]!.push(v))
  }
  const { rows: held } = await db.query<{ id: string, lease: string, cancel_requested: boolean, unwoken_keys: string[] | null, next: Record<string, unknown> | null } & Omit<FinishedColumns, 'status'> & { status: FinishedColumns['status'] | null }>({
    name: 'toygres-write-runs',
    text: `WITH r AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::int[], $7::timestamptz[],
                            $8::timestamptz[], $9::jsonb[], $10::jsonb[], $11::text[])
         AS r(operation_id, lease, position, name, status, attempts, started_at, finished_at, output, error, progress)),
     w AS (
       SELECT * FROM unnest($12::uuid[], $13::uuid[], $14::text[], $15::timestamptz[], $16::text[], $17::jsonb[], $18::jsonb[], $19::int[])
         AS w(operation_id, lease, end_kind, wake_at, status, output, error, take_next)),
     op AS (
       SELECT o.id, o.lease, o.cancel_requested_at, o.trace FROM toygres.operations o JOIN w ON w.operation_id = o.id AND w.lease = o.lease
       FOR SHARE OF o),
     ins AS (
       INSERT INTO toygres.operation_steps (operation_id, position, name, status, attempts, started_at, finished_at, output, error, progress)
       SELECT r.operation_id, r.position, r.name, r.status, r.attempts, r.started_at, r.finished_at, r.output, r.error, r.progress
       FROM r JOIN op ON op.id = r.operation_id AND op.lease = r.lease
       ON CONFLICT (operation_id, position) DO UPDATE
       SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, finished_at = EXCLUDED.finished_at,
           output = EXCLUDED.output, error = EXCLUDED.error, progress = EXCLUDED.progress
       WHERE operation_steps.name = EXCLUDED.name
       RETURNING operation_id, position),
     -- A run's end gives up its lease: to run again at wake_at (a release; at once when a cancel landed
     -- meanwhile), or with the operation's result (a finish). One UPDATE for both: every data-modifying
     -- part of this statement costs each statement something, rows or none.
     ended AS (
       UPDATE toygres.operations o
       SET status = CASE WHEN w.end_kind = 'finish' THEN w.status ELSE o.status END,
           output = CASE WHEN w.end_kind = 'finish' THEN w.output ELSE o.output END,
           error = CASE WHEN w.end_kind = 'finish' THEN w.error ELSE o.error END,
           finished_at = CASE WHEN w.end_kind = 'finish' THEN now() ELSE o.finished_at END,
           wake_at = CASE WHEN w.end_kind = 'finish' THEN NULL
                          WHEN o.cancel_requested_at IS NOT NULL THEN least(w.wake_at, now()) ELSE w.wake_at END,
           lease = NULL, lease_job = NULL, lease_until = NULL, takeovers = 0
       FROM w JOIN op ON op.id = w.operation_id AND op.lease = w.lease
       WHERE o.id = w.operation_id AND w.end_kind IS NOT NULL
       RETURNING w.end_kind, o.id, o.name, o.key, o.trace, o.status, o.error, coalesce(o.started_at, o.finished_at) AS started_at, o.finished_at,
         o.output, o.started_at AS run_started_at, o.cancel_requested_at, o.cancel_reason, w.take_next, o.wake_at <= now() AS due_now),
     rel AS (SELECT name, due_now FROM ended WHERE end_kind = 'release'),
     fin AS (SELECT * FROM ended WHERE end_kind = 'finish'),
     -- The next operation on each key a finish frees: its oldest pending one, locked, unless another transaction
     -- has its row (SKIP LOCKED: a fetch that locked it due claims it and then asks for the key, so waiting for
     -- the row here, holding the key, could deadlock). Then there is no head, and the key counts as unwoken.
     head AS (
       SELECT fin.id AS from_id, fin.key, fin.take_next, n.id, n.name = fin.name AS same_orchestration
       FROM fin CROSS JOIN LATERAL (
         SELECT p.id, p.name, p.created_at FROM toygres.operations p WHERE p.key = fin.key AND p.status = 'pending'
         ORDER BY p.created_at, p.id LIMIT 1 FOR UPDATE SKIP LOCKED) n
       WHERE NOT EXISTS (SELECT 1 FROM toygres.operations b
                         WHERE b.key = fin.key AND b.status = 'pending' AND (b.created_at, b.id) < (n.created_at, n.id))),
     -- A finish that takes the next (RunEnd takeNext) passes its key to a head of its own orchestration and claims it.
     passed AS (
       UPDATE toygres.operation_keys k SET operation_id = head.id
       FROM head WHERE head.take_next IS NOT NULL AND head.same_orchestration AND k.key = head.key AND k.operation_id = head.from_id
       RETURNING head.from_id, head.id, head.take_next),
     freed AS (
       DELETE FROM toygres.operation_keys k USING fin
       WHERE k.key = fin.key AND k.operation_id = fin.id
         AND NOT EXISTS (SELECT 1 FROM head WHERE head.from_id = fin.id AND head.take_next IS NOT NULL AND head.same_orchestration)
       RETURNING k.key, k.contended),
     -- Each head runs next: claimed for this process when its key was passed to it; else made due when its key
     -- was freed, for a fetch to claim from its row (claim.ts). One UPDATE for both.
     moved AS (
       UPDATE toygres.operations o
       SET status = CASE WHEN passed.id IS NULL THEN o.status ELSE 'running' END,
           lease = CASE WHEN passed.id IS NOT NULL THEN gen_random_uuid() END,
           lease_until = CASE WHEN passed.id IS NOT NULL THEN now() + make_interval(secs => passed.take_next) END,
           wake_at = CASE WHEN passed.id IS NULL THEN now() END,
           attempts = o.attempts + (passed.id IS NOT NULL)::int,
           started_at = CASE WHEN passed.id IS NOT NULL THEN now() END
       FROM head LEFT JOIN passed ON passed.id = head.id
       WHERE o.id = head.id AND (passed.id IS NOT NULL OR EXISTS (SELECT 1 FROM freed WHERE freed.key = head.key))
       RETURNING head.from_id, passed.id IS NOT NULL AS passed, ${RETURNED}),
     taken AS (SELECT * FROM moved WHERE passed),
     nxt AS (SELECT name, key FROM moved WHERE NOT passed),
     -- Traced operations keep each write of a user-visible step, then their end, as events, in that order.
     ev AS (
       INSERT INTO toygres.operation_events (operation_id, position, name, status, attempts, progress, error, started_at, finished_at)
       SELECT operation_id, position, name, status, attempts, progress, error, started_at, finished_at FROM (
         SELECT r.operation_id, r.position, r.name, r.status, r.attempts, r.progress, r.error, r.started_at, r.finished_at, 0 AS phase
         FROM r JOIN op ON op.id = r.operation_id AND op.lease = r.lease JOIN ins ON ins.operation_id = r.operation_id AND ins.position = r.position
         WHERE op.trace AND left(r.name, 1) <> '$'
         UNION ALL
         SELECT fin.id, -1, '$operation', fin.status, 1, NULL, fin.error, fin.started_at, fin.finished_at, 1 FROM fin WHERE fin.trace) e
       ORDER BY operation_id, phase, position
       RETURNING operation_id)
     SELECT op.id, op.lease, op.cancel_requested_at IS NOT NULL AS cancel_requested,
       -- Sent on commit: followers of traced operations, waiters of finished ones, fetchers of what is due now.
       (SELECT count(pg_notify('${CHANNEL}', 'e:' || operation_id::text)) FROM ev) AS traced,
       (SELECT count(pg_notify('${CHANNEL}', 'f:' || id::text)) FROM fin) AS finished,
       (SELECT count(pg_notify('${CHANNEL}', 'w:' || name)) FROM nxt) AS woken,
       (SELECT count(CASE WHEN due_now THEN pg_notify('${CHANNEL}', 'w:' || name) END) FROM rel) AS due,
       -- Freed keys to look at again once this commits: those a claim was refused on (the row's newest version
       -- says so: the DELETE waited for that claim), even when something was woken here, since the refused one
       -- may be older than anything this snapshot sees; and those whose next operation's row was locked.
       (SELECT array_agg(key) FROM freed WHERE freed.contended OR (NOT EXISTS (SELECT 1 FROM nxt WHERE nxt.key = freed.key)
          AND EXISTS (SELECT 1 FROM toygres.operations p WHERE p.key = freed.key AND p.status = 'pending'))) AS unwoken_keys,
       -- A finished operation as committed, for waiters in this process.
       fin.status, fin.output, fin.error, fin.run_started_at AS started_at, fin.finished_at, fin.cancel_requested_at, fin.cancel_reason,
       -- The next operation on its key, claimed for this process.
       CASE WHEN taken.id IS NOT NULL THEN to_jsonb(taken) END AS next
     FROM op LEFT JOIN fin ON fin.id = op.id LEFT JOIN taken ON taken.from_id = op.id`,
    values: [...rows, ...ends]
  })
  // By operation and lease: a zombie's write and its new owner's can share a batch (one process, a lapsed lease taken over).
  const byRun = new Map(held.map((r): [string, RunWriteResult] => [`${r.id}:${r.lease}`, {
    held: true,
    cancelRequested: r.cancel_requested,
    ...(r.status !== null && {
      finished: { status: r.status, output: r.output, error: r.error, started_at: r.started_at, finished_at: r.finished_at, cancel_requested_at: r.cancel_requested_at, cancel_reason: r.cancel_reason }
    }),
    ...(r.next !== null && { next: claimedFromJson(r.next) })
  }]))
  return {
    results: writes.map(w => byRun.get(`${w.operationId}:${w.lease}`) ?? { held: false, cancelRequested: false }),
    unwokenKeys: held[0]?.unwoken_keys ?? []
  }
}

/** writeRuns, then wakeNextOnKeys for the keys it freed and woke nothing on: for a write nothing else follows. */
export async function writeRunsAndWake (db: Queryable, writes: RunWrite[]): Promise<RunWriteResult[]> {
  const { results, unwokenKeys } = await writeRuns(db, writes)
  if (unwokenKeys.length > 0) await wakeNextOnKeys(db, unwokenKeys)
  return results
}

/**
 * Makes the oldest pending operation on each of `keys` due (and wakes its
 * fetchers), where the key is free and none is due yet. Run after a write
 * that freed the keys committed, with a snapshot that sees every operation
 * started before then. Waits for a row another transaction holds (a cancel,
 * a claim), and when that row is no longer pending, goes on to the next
 * operation on the key: the row lock re-checks the newest version. One
 * statement per key, so it never waits for one key's row while holding
 * another's (a cancel waking the next on its key would deadlock with it).
 * Returns how many it woke.
 */
export async function wakeNextOnKeys (db: Queryable, keys: string[]): Promise<number> {
  let woken = 0
  for (const key of new Set(keys)) {
    const { rowCount } = await db.query({
      name: 'toygres-wake-next-on-key',
      // The head is a materialized CTE, read once: as a subquery in FROM, a plan that rescans it finds the row this
      // UPDATE just changed skipped by its lock (self-modified) and returns the next one, waking two.
      text: `WITH n AS MATERIALIZED (
         SELECT p2.id FROM toygres.operations p2 WHERE p2.key = $1 AND p2.status = 'pending'
         ORDER BY p2.created_at, p2.id LIMIT 1 FOR UPDATE)
       UPDATE toygres.operations p SET wake_at = now()
       FROM n
       WHERE p.id = n.id AND p.status = 'pending' AND p.wake_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM toygres.operation_keys k WHERE k.key = p.key)
       RETURNING pg_notify('${CHANNEL}', 'w:' || p.name)`,
      values: [key]
    })
    woken += rowCount ?? 0
  }
  return woken
}
