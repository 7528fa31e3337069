// One fetch of a queue. Operations due on their rows (timers, queued starts
// without an idempotency key, the next on a freed key) and those whose run's
// lease lapsed are claimed straight from their rows in one statement
// (claimDue), in autocommit: a fetch that due rows fill is one round trip.
// pg-boss hands over jobs (starts with an idempotency key) for the slots
// left, when the caller says jobs may be waiting, in a transaction of their
// own: the jobs' operations are claimed in
// one statement (claimOperations), and every fetched job is completed,
// claimed or not (a job only delivers a start or a wake-up; the operation's
// lease, kept alive by the dispatcher, protects the run from here). A
// refused job's operation is finished, run elsewhere, or waits for its key
// (whoever holds the key wakes it). When due rows have filled every fetch
// for a polling interval, the next fetch asks pg-boss first, in one
// transaction with the due rows for the slots its jobs left, so timers that
// always fill the slots delay starts by at most that long instead of
// starving them. The histories of operations that ran before are read once
// their claims committed (a statement of its own, whose snapshot sees every
// checkpoint the run before wrote); if that or the jobs' transaction fails,
// what was claimed is handed back, due now.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type { Job, PgBoss } from 'pg-boss'
import type { Queryable } from '../db/queryable.ts'
import { claimDue, claimOperations, releaseLease, type Claimed, type Due } from './sql/operations.ts'
import { selectHistories } from './sql/steps.ts'
import { bossDb, inTransaction, type Client, type JobData } from './tx.ts'
import type { StepRecord } from './types.ts'

export interface ClaimedRun {
  /** The operation, held by `operation.lease` for this run. */
  operation: Claimed
  /** Its checkpoints so far (none for a first run). */
  history: StepRecord[]
  /** Epoch ms before the fetch was sent, for the clock's round-trip bound. */
  sentAt: number
}

export interface ClaimSettings {
  /** The orchestration's public name (operations.name) and its pg-boss queue. */
  name: string
  queue: string
  /** Seconds a lease lasts unless renewed. */
  leaseSeconds: number
  /** Lapsed leases taken over in a row before the operation is left to sweepAbandoned (which fails it). */
  maxTakeovers: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The jobs taken, and the operations they delivered that this fetch claimed. */
interface JobsTaken { jobs: Array<Job<JobData>>, claimed: Claimed[] }

/**
 * Claims up to `limit` runs. `jobs`: 'after', due rows first, then jobs for
 * the slots left; 'first', jobs first and due rows for the slots their
 * claims left (a job refused for its key leaves its slot to a due row);
 * 'none', due rows only (no start job can be waiting). `fetched` counts
 * rows and jobs taken (claimed or refused), to tell a full batch;
 * `askedJobs` says whether pg-boss was asked at all, and `jobsExhausted`
 * that it had fewer jobs than asked for (none left as of that fetch).
 * Throws on a database error, with nothing left claimed (best effort: a
 * hand-back that fails too leaves the lease to lapse).
 */
export async function claimRuns (pool: pg.Pool, boss: PgBoss, settings: ClaimSettings, limit: number, jobs: 'first' | 'after' | 'none' = 'after'): Promise<{ runs: ClaimedRun[], fetched: number, askedJobs: boolean, jobsExhausted: boolean }> {
  const sentAt = Date.now()
  const due = async (db: Queryable, n: number): Promise<Due[]> =>
    n > 0 ? claimDue(db, settings.name, n, settings.leaseSeconds, settings.maxTakeovers) : []
  let taken: Due[]
  let fromJobs: JobsTaken = { jobs: [], claimed: [] }
  let asked = 0
  if (jobs === 'first') {
    ({ taken, fromJobs } = await inTransaction(pool, async client => {
      const fromJobs = await takeJobs(client, boss, settings, limit)
      // What the jobs claimed is leased and running now, so claimDue cannot return it again.
      return { taken: await due(client, limit - fromJobs.claimed.length), fromJobs }
    }))
    asked = limit
  } else {
    taken = await due(pool, limit)
    if (jobs === 'after' && taken.length < limit) {
      asked = limit - taken.length
      // A job for an operation this fetch already has is a duplicate wake-up.
      const skip = new Set(taken.map(op => op.id))
      fromJobs = await handBackIfThrows(pool, claimedOf(taken),
        () => inTransaction(pool, client => takeJobs(client, boss, settings, asked, skip)))
    }
  }
  const claimed = [...claimedOf(taken), ...fromJobs.claimed]
  const histories = await handBackIfThrows(pool, claimed,
    () => selectHistories(pool, claimed.filter(op => op.attempts > 1).map(op => op.id)))
  return {
    runs: claimed.map(operation => ({ operation, history: histories.get(operation.id) ?? [], sentAt })),
    fetched: taken.length + fromJobs.jobs.length,
    askedJobs: asked > 0,
    jobsExhausted: asked > 0 && fromJobs.jobs.length < asked
  }
}

/** Fetches up to `n` jobs, claims the operations they deliver (except those in `skip`) and completes them all, in the caller's transaction. */
async function takeJobs (client: Client, boss: PgBoss, settings: ClaimSettings, n: number, skip = new Set<string>()): Promise<JobsTaken> {
  if (n <= 0) return { jobs: [], claimed: [] }
  const db = bossDb(client)
  const jobs = await boss.fetch<JobData>(settings.queue, { batchSize: n, db })
  const claims = jobs
    .filter(j => typeof j.data?.operationId === 'string' && UUID.test(j.data.operationId) && !skip.has(j.data.operationId))
    .map(j => ({ operationId: j.data.operationId, lease: randomUUID(), jobId: j.id }))
  const claimed = claims.length > 0 ? await claimOperations(client, claims, settings.leaseSeconds) : []
  if (jobs.length > 0) await boss.complete(settings.queue, jobs.map(j => ({ id: j.id, retryCount: j.retryCount })), null, { db })
  return { jobs, claimed }
}

function claimedOf (rows: Due[]): Claimed[] {
  return rows.filter((op): op is Claimed => op.lease !== null)
}

/** Runs `fn`; if it throws, gives the operations `claimed` (committed already) back, due now, then rethrows. */
async function handBackIfThrows<T> (pool: pg.Pool, claimed: Claimed[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    await Promise.allSettled(claimed.map(op => releaseLease(pool, op.id, op.lease, new Date(0))))
    throw err
  }
}
