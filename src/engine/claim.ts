// One fetch of a queue, in one transaction: pg-boss hands over up to `limit`
// jobs, their operations are claimed in one statement (claimOperations), the
// jobs whose claim was refused are completed (their operation is finished,
// run elsewhere, or waits for its key: whoever holds the key wakes it), and
// the histories of operations that ran before are read. Nothing is held
// unless all of it commits.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { claimOperations, type Claimed } from './sql/operations.ts'
import { selectHistories } from './sql/steps.ts'
import { bossDb, inTransaction, type JobData } from './tx.ts'
import type { StepRecord } from './types.ts'

/** The pg-boss job (this attempt of it) a run belongs to. */
export interface FetchedJob { id: string, retryCount: number }

export interface ClaimedRun {
  job: FetchedJob
  /** The operation, held by `operation.lease` for this run. */
  operation: Claimed
  /** Its checkpoints so far (none for a first run). */
  history: StepRecord[]
  /** Epoch ms before the fetch was sent, for the clock's round-trip bound. */
  sentAt: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Fetches and claims; `fetched` counts jobs taken (claimed or refused), to tell a full batch. */
export async function claimJobs (pool: pg.Pool, boss: PgBoss, queue: string, limit: number): Promise<{ runs: ClaimedRun[], fetched: number }> {
  const sentAt = Date.now()
  return inTransaction(pool, async client => {
    const db = bossDb(client)
    const jobs = await boss.fetch<JobData>(queue, { batchSize: limit, db })
    if (jobs.length === 0) return { runs: [], fetched: 0 }
    const claims = jobs
      .filter(j => typeof j.data?.operationId === 'string' && UUID.test(j.data.operationId))
      .map(j => ({ operationId: j.data.operationId, lease: randomUUID(), jobId: j.id }))
    const claimed = await claimOperations(client, claims)
    const byJob = new Map(claimed.map(op => [op.lease_job, op]))
    const refused = jobs.filter(j => !byJob.has(j.id)).map(j => ({ id: j.id, retryCount: j.retryCount }))
    if (refused.length > 0) await boss.complete(queue, refused, null, { db })
    const histories = await selectHistories(client, claimed.filter(op => op.attempts > 1).map(op => op.id))
    const runs = jobs.flatMap(j => {
      const operation = byJob.get(j.id)
      return operation ? [{ job: { id: j.id, retryCount: j.retryCount }, operation, history: histories.get(operation.id) ?? [], sentAt }] : []
    })
    return { runs, fetched: jobs.length }
  })
}
