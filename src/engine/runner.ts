// One run of an operation, for one pg-boss job: claim the lease, load the
// history in one query, replay the orchestration, then finish, suspend on a
// durable timer, or stop quietly when the lease was lost.
import { randomUUID } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { Logger } from '../logging.ts'
import type { Clock } from './clock.ts'
import { ContinueAsNewRequest, RunContext } from './context.ts'
import { CancelledError, StepFailedError, toStoredError, type StoredError } from './errors.ts'
import type { Halt } from './halt.ts'
import { queueName } from './queues.ts'
import { claimOperation, finishOperation, releaseLease, renewOperation } from './sql/operations.ts'
import { deleteSteps, selectSteps, writeCheckpoint } from './sql/steps.ts'
import { bossDb, enqueueRun, inTransaction, type Client } from './tx.ts'
import type { Operation, OperationStatus, Registration } from './types.ts'

export interface RunnerDeps {
  pool: pg.Pool
  boss: PgBoss
  logger: Logger
  events: EventEmitter
  registrations: Map<string, Registration>
  /** Runs in this process, by operation id, so cancel notifications reach them. */
  active: Map<string, RunContext>
  /** Called after a durable timer is set, so this process can wake a worker on time. */
  onTimer: (queue: string, wakeAt: number) => void
  clock: Clock
}

type Outcome = { kind: 'returned', value: unknown } | { kind: 'threw', error: unknown } | Halt

/** The pg-boss job (this attempt of it) a run belongs to. */
export interface RunJob { id: string, retryCount: number }

export async function runOperation (deps: RunnerDeps, operationId: string, job: RunJob): Promise<void> {
  const lease = randomUUID()
  const sentAt = Date.now()
  const claimed = await claimOperation(deps.pool, operationId, lease, job.id)
  // Finished, owned by a live run of another job, or waiting for its key:
  // whoever holds the key wakes it when it ends.
  if (!claimed) return
  deps.clock.observe(claimed.db_now.getTime(), sentAt, Date.now())
  const { db_now: _dbNow, ...op } = claimed
  const reg = deps.registrations.get(op.name)
  if (!reg) throw new Error(`orchestration "${op.name}" is not registered in this worker`)
  const log = deps.logger.child({ operationId: op.id, orchestration: op.name, key: op.key })
  if (op.attempts === 1) deps.events.emit('operation:started', { name: op.name })
  // A first claim has no history: no checkpoint is written without a claim.
  const history = op.attempts === 1 ? [] : await selectSteps(deps.pool, op.id)
  const ctx = new RunContext({
    db: deps.pool,
    operation: op,
    lease,
    history,
    policy: reg.stepPolicy,
    activities: reg.activities,
    clock: deps.clock,
    log,
    onStepFinished: (step, status, durationMs) => deps.events.emit('step:finished', { name: op.name, step, status, durationMs })
  })
  deps.active.set(op.id, ctx)
  let outcome: Outcome
  try {
    const run = Promise.resolve()
      .then(() => reg.fn(ctx, op.input))
      .then((value): Outcome => ({ kind: 'returned', value }), (error: unknown): Outcome => ({ kind: 'threw', error }))
    outcome = await Promise.race([run, ctx.halted])
    outcome = ctx.haltReason ?? outcome
  } finally {
    deps.active.delete(op.id)
  }
  await settle(deps, op, lease, job, ctx, outcome, log)
}

async function settle (deps: RunnerDeps, op: Operation, lease: string, job: RunJob, ctx: RunContext, outcome: Outcome, log: Logger): Promise<void> {
  const queue = queueName(op.name)
  // The job completes in the same transaction as what the run leaves behind:
  // one commit fewer per run, and no window where one is done without the
  // other. pg-boss's own completion afterwards then finds nothing to do.
  const completeJob = (client: Client): Promise<unknown> =>
    deps.boss.complete(queue, { id: job.id, retryCount: job.retryCount }, null, { db: bossDb(client) })
  switch (outcome.kind) {
    case 'lease-lost':
      log.warn('lease lost: another run owns this operation now; stopping')
      return
    case 'crash':
      throw outcome.error
    case 'timer': {
      const held = await inTransaction(deps.pool, async client => {
        const res = await writeCheckpoint(client, op.id, lease, outcome.row)
        if (!res.held) return false
        await releaseLease(client, op.id, lease)
        await enqueueRun(deps.boss, client, queue, op.id, new Date(outcome.wakeAt))
        await completeJob(client)
        return true
      })
      if (held) deps.onTimer(queue, outcome.wakeAt)
      else log.warn('lease lost before the timer was set')
      return
    }
    case 'release':
      await inTransaction(deps.pool, async client => {
        if (!(await releaseLease(client, op.id, lease))) return
        await enqueueRun(deps.boss, client, queue, op.id)
        await completeJob(client)
      })
      return
    case 'fail':
      log.error({ err: outcome.error }, 'operation failed by the engine')
      return finish(deps, op, lease, completeJob, 'failed', undefined, toStoredError(outcome.error), log)
    case 'returned':
      if (outcome.value instanceof ContinueAsNewRequest) {
        const next = outcome.value.input as unknown
        await inTransaction(deps.pool, async client => {
          // The history goes with the old input: forever-loops keep a bounded history.
          if (!(await renewOperation(client, op.id, lease, next))) return
          await deleteSteps(client, op.id)
          await enqueueRun(deps.boss, client, queue, op.id)
          await completeJob(client)
        })
        return
      }
      return finish(deps, op, lease, completeJob, ctx.cancelDelivered ? 'cancelled' : 'succeeded', outcome.value, null, log)
    case 'threw': {
      const err = outcome.error
      if (err instanceof CancelledError || (ctx.cancelDelivered && (err as { code?: unknown })?.code === 'cancelled')) {
        return finish(deps, op, lease, completeJob, 'cancelled', undefined, toStoredError(err), log)
      }
      const stored = toStoredError(err)
      if (err instanceof StepFailedError) {
        stored.step = err.step
        const causeCode = (err.cause as { code?: unknown } | undefined)?.code
        stored.code = typeof causeCode === 'string' ? causeCode : err.code
      }
      return finish(deps, op, lease, completeJob, 'failed', undefined, stored, log)
    }
  }
}

async function finish (deps: RunnerDeps, op: Operation, lease: string, completeJob: (c: Client) => Promise<unknown>, status: OperationStatus, output: unknown, error: StoredError | null, log: Logger): Promise<void> {
  const done = await inTransaction(deps.pool, async client => {
    const row = await finishOperation(client, op.id, lease, status, output, error)
    // The next operation on the key was parked while this one held it.
    if (!row) return null
    if (row.next_id && row.next_name) await enqueueRun(deps.boss, client, queueName(row.next_name), row.next_id)
    await completeJob(client)
    return row
  })
  if (!done) {
    log.warn('lease lost before the operation could finish')
    return
  }
  log.debug({ status }, 'operation finished')
  deps.events.emit('operation:finished', { name: op.name, status, durationMs: deps.clock.now() - op.created_at.getTime() })
}
