// One fetch of a queue, in one transaction: operations due on their rows
// (timers, queued starts without an idempotency key, the next on a freed
// key) and those whose run's lease lapsed are claimed straight from their
// rows, and pg-boss hands over jobs (starts with an idempotency key) for the
// slots left. When due rows
// have filled every fetch for a polling interval, the next fetch asks
// pg-boss first, so timers that always fill the slots delay starts by at
// most that long instead of starving them. The jobs' operations are
// claimed in one statement (claimOperations), and every fetched job is
// completed, claimed or not: a job only delivers a start or a wake-up, and
// the operation's lease (kept alive by the dispatcher) is what protects the
// run from here. A refused job's operation is finished, run elsewhere, or
// waits for its key (whoever holds the key wakes it). The histories of the
// operations that ran before are read in the same transaction. Nothing is
// held unless all of it commits.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type { Job, PgBoss } from 'pg-boss'
import { claimDue, claimOperations, type Claim, type Claimed, type Due } from './sql/operations.ts'
import { selectHistories } from './sql/steps.ts'
import { bossDb, inTransaction, type JobData } from './tx.ts'
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

/**
 * Claims up to `limit` runs: due rows first, then jobs for the slots left,
 * or, with `jobsFirst`, jobs first and due rows for the slots their claims
 * left (a job refused for its key leaves its slot to a due row). `fetched`
 * counts rows and jobs taken (claimed or refused), to tell a full batch;
 * `askedJobs` says whether pg-boss was asked at all.
 */
export async function claimRuns (pool: pg.Pool, boss: PgBoss, settings: ClaimSettings, limit: number, jobsFirst = false): Promise<{ runs: ClaimedRun[], fetched: number, askedJobs: boolean }> {
  const sentAt = Date.now()
  const { queue, leaseSeconds } = settings
  return inTransaction(pool, async client => {
    const db = bossDb(client)
    const claimed: Claimed[] = []
    const claim = async (claims: Claim[]): Promise<void> => {
      if (claims.length > 0) claimed.push(...await claimOperations(client, claims, leaseSeconds))
    }
    /** The pending operations among due rows (made due: the next on a freed key), still to be claimed. */
    const pendingClaims = (due: Due[]): Claim[] =>
      due.filter(op => op.lease === null).map(op => ({ operationId: op.id, lease: randomUUID(), jobId: null }))
    /** The operations `jobs` deliver, except those in `skip`. */
    const jobClaims = (jobs: Array<Job<JobData>>, skip = new Set<string>()): Claim[] => jobs
      .filter(j => typeof j.data?.operationId === 'string' && UUID.test(j.data.operationId) && !skip.has(j.data.operationId))
      .map(j => ({ operationId: j.data.operationId, lease: randomUUID(), jobId: j.id }))
    const claimDueRows = async (n: number): Promise<Due[]> => {
      const due = n > 0 ? await claimDue(client, settings.name, n, leaseSeconds, settings.maxTakeovers) : []
      // Running operations come claimed; pending ones made due are claimed with claim(pendingClaims(...)).
      claimed.push(...due.filter((op): op is Claimed => op.lease !== null))
      return due
    }
    const fetchJobs = async (n: number): Promise<Array<Job<JobData>>> => n > 0 ? boss.fetch<JobData>(queue, { batchSize: n, db }) : []
    let fetched: number
    let jobs: Array<Job<JobData>>
    let askedJobs = true
    if (jobsFirst) {
      jobs = await fetchJobs(limit)
      await claim(jobClaims(jobs))
      // What the jobs claimed is leased and running now, so claimDue cannot return it again.
      const due = await claimDueRows(limit - claimed.length)
      await claim(pendingClaims(due))
      fetched = jobs.length + due.length
    } else {
      const due = await claimDueRows(limit)
      askedJobs = due.length < limit
      jobs = await fetchJobs(limit - due.length)
      // A job for an operation this fetch already has is a duplicate wake-up.
      await claim([...pendingClaims(due), ...jobClaims(jobs, new Set(due.map(op => op.id)))])
      fetched = due.length + jobs.length
    }
    if (jobs.length > 0) await boss.complete(queue, jobs.map(j => ({ id: j.id, retryCount: j.retryCount })), null, { db })
    const histories = await selectHistories(client, claimed.filter(op => op.attempts > 1).map(op => op.id))
    return { runs: claimed.map(operation => ({ operation, history: histories.get(operation.id) ?? [], sentAt })), fetched, askedJobs }
  })
}
