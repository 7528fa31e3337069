// One run of an operation, claimed with its history by the dispatcher
// (claim.ts): replay the orchestration, then finish, suspend on a durable
// timer (the lease given up with the time to wake), or stop quietly when the
// lease was lost. Every write is fenced by the run's lease.
import type { EventEmitter } from 'node:events'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { Logger } from '../logging.ts'
import type { Clock } from './clock.ts'
import { ContinueAsNewRequest, RunContext } from './context.ts'
import { CancelledError, StepFailedError, toStoredError, type StoredError } from './errors.ts'
import type { Halt } from './halt.ts'
import { queueName } from './queues.ts'
import type { ClaimedRun } from './claim.ts'
import type { CheckpointWriter } from './checkpoint-writer.ts'
import { finishOperation, releaseLease, renewOperation } from './sql/operations.ts'
import { deleteSteps, writeCheckpoint, type CheckpointRow } from './sql/steps.ts'
import { enqueueRun, inTransaction } from './tx.ts'
import type { Operation, OperationStatus, Registration } from './types.ts'

export interface RunnerDeps {
  pool: pg.Pool
  /** Group-commits the checkpoints runs write between their claim and their end. */
  writer: CheckpointWriter
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

export async function runOperation (deps: RunnerDeps, run: ClaimedRun): Promise<void> {
  const { history } = run
  const { db_now: dbNow, lease, lease_job: _job, ...op } = run.operation
  deps.clock.observe(dbNow.getTime(), run.sentAt, Date.now())
  const reg = deps.registrations.get(op.name)
  if (!reg) throw new Error(`orchestration "${op.name}" is not registered in this worker`)
  const log = deps.logger.child({ operationId: op.id, orchestration: op.name, key: op.key })
  if (op.attempts === 1) deps.events.emit('operation:started', { name: op.name })
  const ctx = new RunContext({
    writer: deps.writer,
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
    // Checkpoints still held commit with the run's end; one in flight lands first (and may halt the run).
    const pending = await ctx.takePending()
    outcome = ctx.haltReason ?? outcome
    await settle(deps, op, lease, ctx, outcome, pending, log)
  } finally {
    deps.active.delete(op.id)
  }
}

/** Milliseconds before an operation whose run broke (a database error under a write) runs again. */
export const BROKEN_RUN_RETRY_MS = 5000

async function settle (deps: RunnerDeps, op: Operation, lease: string, ctx: RunContext, outcome: Outcome, pending: CheckpointRow[], log: Logger): Promise<void> {
  const queue = queueName(op.name)
  switch (outcome.kind) {
    case 'lease-lost':
      log.warn('lease lost: another run owns this operation now; stopping')
      return
    case 'crash':
      // The database failed under a write: give the operation back to run
      // again shortly. If that fails too, the lease lapses and any engine
      // takes it over; either way the next run replays from checkpoints.
      log.error({ err: outcome.error }, 'a write failed under the run; it will run again')
      await releaseLease(deps.pool, op.id, lease, new Date(deps.clock.now() + BROKEN_RUN_RETRY_MS))
        .catch((err: unknown) => log.warn({ err }, 'could not give the operation back; its lease will lapse'))
      return
    case 'timer': {
      // One statement, group-committed with other runs' writes: the last
      // checkpoints, the timer's row, and the lease given up with the time to wake.
      const res = await deps.writer.write({ operationId: op.id, lease, rows: [...pending, outcome.row], release: { wakeAt: new Date(outcome.wakeAt) } })
        .catch((error: unknown) => ({ held: false, cancelRequested: false, error }))
      if ('error' in res) {
        log.error({ err: res.error }, 'could not set the timer; the lease will lapse and the run replay')
      } else if (!res.held) {
        log.warn('lease lost before the timer was set')
      } else if (!res.cancelRequested) {
        deps.onTimer(queue, outcome.wakeAt)
      }
      return
    }
    case 'release': {
      const res = await deps.writer.write({ operationId: op.id, lease, rows: pending, release: { wakeAt: new Date(deps.clock.now()) } })
        .catch(() => null)
      if (!res?.held) log.warn('could not hand the operation back; its lease will lapse')
      return
    }
    case 'fail':
      log.error({ err: outcome.error }, 'operation failed by the engine')
      return finish(deps, op, lease, pending, 'failed', undefined, toStoredError(outcome.error), log)
    case 'returned':
      if (outcome.value instanceof ContinueAsNewRequest) {
        const next = outcome.value.input as unknown
        const renewed = await inTransaction(deps.pool, async client => {
          // The history goes with the old input (pending checkpoints too): forever-loops keep a bounded history.
          if (!(await renewOperation(client, op.id, lease, next))) return false
          await deleteSteps(client, op.id)
          return true
        })
        if (!renewed) log.warn('lease lost before continuing as new')
        return
      }
      return finish(deps, op, lease, pending, ctx.cancelDelivered ? 'cancelled' : 'succeeded', outcome.value, null, log)
    case 'threw': {
      const err = outcome.error
      if (err instanceof CancelledError || (ctx.cancelDelivered && (err as { code?: unknown })?.code === 'cancelled')) {
        return finish(deps, op, lease, pending, 'cancelled', undefined, toStoredError(err), log)
      }
      const stored = toStoredError(err)
      if (err instanceof StepFailedError) {
        stored.step = err.step
        const causeCode = (err.cause as { code?: unknown } | undefined)?.code
        stored.code = typeof causeCode === 'string' ? causeCode : err.code
      }
      return finish(deps, op, lease, pending, 'failed', undefined, stored, log)
    }
  }
}

async function finish (deps: RunnerDeps, op: Operation, lease: string, pending: CheckpointRow[], status: OperationStatus, output: unknown, error: StoredError | null, log: Logger): Promise<void> {
  const done = await inTransaction(deps.pool, async client => {
    // The last steps' checkpoints commit with the end: one transaction fewer per run.
    if (pending.length > 0 && !(await writeCheckpoint(client, op.id, lease, ...pending)).held) return null
    const row = await finishOperation(client, op.id, lease, status, output, error)
    // The next operation on the key was parked while this one held it.
    if (!row) return null
    if (row.next_id && row.next_name) await enqueueRun(deps.boss, client, queueName(row.next_name), row.next_id)
    return row
  })
  if (!done) {
    log.warn('lease lost before the operation could finish')
    return
  }
  log.debug({ status }, 'operation finished')
  deps.events.emit('operation:finished', { name: op.name, status, durationMs: deps.clock.now() - op.created_at.getTime() })
}
