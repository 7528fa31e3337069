// One fetch of a queue, in one transaction: running operations whose timer
// is due (or whose run's lease lapsed) are claimed straight from their rows;
// then pg-boss hands over jobs for the slots left, their operations are
// claimed in one statement (claimOperations), and every fetched job is
// completed, claimed or not: a job only delivers a start or a wake-up, and
// the operation's lease (kept alive by the dispatcher) is what protects the
// run from here. A refused job's operation is finished, run elsewhere, or
// waits for its key (whoever holds the key wakes it). The histories of the
// operations that ran before are read in the same transaction. Nothing is
// held unless all of it commits.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { claimDue, claimOperations, type Claim, type Claimed } from './sql/operations.ts'
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

/** Claims up to `limit` runs; `fetched` counts rows and jobs taken (claimed or refused), to tell a full batch. */
export async function claimRuns (pool: pg.Pool, boss: PgBoss, settings: ClaimSettings, limit: number): Promise<{ runs: ClaimedRun[], fetched: number }> {
  const sentAt = Date.now()
  const { queue, leaseSeconds } = settings
  return inTransaction(pool, async client => {
    const db = bossDb(client)
    const due = await claimDue(client, settings.name, limit, leaseSeconds, settings.maxTakeovers)
    // Running operations come claimed; pending ones made due (the next on a freed key) are claimed below, with the jobs.
    const claimed = due.filter((op): op is Claimed => op.lease !== null)
    const claims: Claim[] = due.filter(op => op.lease === null).map(op => ({ operationId: op.id, lease: randomUUID(), jobId: null }))
    let fetched = due.length
    const jobs = due.length < limit ? await boss.fetch<JobData>(queue, { batchSize: limit - due.length, db }) : []
    fetched += jobs.length
    // A job for an operation this fetch already has is a duplicate wake-up.
    const taken = new Set(due.map(op => op.id))
    claims.push(...jobs
      .filter(j => typeof j.data?.operationId === 'string' && UUID.test(j.data.operationId) && !taken.has(j.data.operationId))
      .map(j => ({ operationId: j.data.operationId, lease: randomUUID(), jobId: j.id })))
    if (claims.length > 0) claimed.push(...await claimOperations(client, claims, leaseSeconds))
    if (jobs.length > 0) await boss.complete(queue, jobs.map(j => ({ id: j.id, retryCount: j.retryCount })), null, { db })
    const histories = await selectHistories(client, claimed.filter(op => op.attempts > 1).map(op => op.id))
    return { runs: claimed.map(operation => ({ operation, history: histories.get(operation.id) ?? [], sentAt })), fetched }
  })
}
