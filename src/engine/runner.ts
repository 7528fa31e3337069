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
import type { RunWriter } from './run-writer.ts'
import { renewOperation } from './sql/operations.ts'
import type { CheckpointRow, RunEnd, RunWriteResult } from './sql/run-writes.ts'
import { deleteSteps } from './sql/steps.ts'
import { inTransaction } from './tx.ts'
import type { Operation, Registration } from './types.ts'

export interface RunnerDeps {
  pool: pg.Pool
  /** Group-commits the checkpoints runs write between their claim and their end. */
  writer: RunWriter
  boss: PgBoss
  logger: Logger
  events: EventEmitter
  registrations: Map<string, Registration>
  /** Runs in this process, by operation id, so cancel notifications reach them. */
  active: Map<string, RunContext>
  /**
   * Called when a run ended here, so local waiters look at once: with the
   * operation as its finish committed it, when it finished (they need no read).
   */
  onRunEnded: (operationId: string, finished?: Operation) => void
  /** Called after a durable timer is set, so this process can wake a worker on time. */
  onTimer: (queue: string, wakeAt: number) => void
  /** Lease seconds for the next operation on a finished run's key, claimed by its ending statement; null while this process takes no new runs (stopping). */
  takeNext: () => number | null
  clock: Clock
}

type Outcome = { kind: 'returned', value: unknown } | { kind: 'threw', error: unknown } | Halt

/**
 * Runs `run` to its end here (or until its lease is lost). Resolves with the
 * next operation on its key when its finish claimed one for this process
 * (RunEnd `takeNext`): the caller runs it in the slot this run leaves.
 */
export async function runOperation (deps: RunnerDeps, run: ClaimedRun): Promise<ClaimedRun | undefined> {
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
  let ended: Ended = {}
  try {
    const run = Promise.resolve()
      .then(() => reg.fn(ctx, op.input))
      .then((value): Outcome => ({ kind: 'returned', value }), (error: unknown): Outcome => ({ kind: 'threw', error }))
    outcome = await Promise.race([run, ctx.halted])
    // Checkpoints still held commit with the run's end; one in flight lands first (and may halt the run).
    const pending = await ctx.takePending()
    outcome = ctx.haltReason ?? outcome
    ended = await settle(deps, op, lease, ctx, outcome, pending, log)
  } finally {
    deps.active.delete(op.id)
    deps.onRunEnded(op.id, ended.finished)
  }
  return ended.next
}

/** What a run's end gave: the operation as its finish committed it, and the next operation on its key, claimed here. */
interface Ended { finished?: Operation, next?: ClaimedRun }

/** Milliseconds before an operation whose run broke (a database error under a write) runs again. */
export const BROKEN_RUN_RETRY_MS = 5000

/** Writes how the run ended; resolves with the operation as committed when it finished. */
async function settle (deps: RunnerDeps, op: Operation, lease: string, ctx: RunContext, outcome: Outcome, pending: CheckpointRow[], log: Logger): Promise<Ended> {
  const queue = queueName(op.name)
  // Every ending is one statement, group-committed with other runs' writes:
  // the last checkpoints and the end, fenced by the lease.
  const end = async (rows: CheckpointRow[], how: RunEnd): Promise<RunWriteResult | null> =>
    deps.writer.write({ operationId: op.id, lease, rows, end: how }).catch((err: unknown) => {
      log.error({ err }, 'could not write the run\'s end; its lease will lapse and a run replays')
      return null
    })
  switch (outcome.kind) {
    case 'lease-lost':
      log.warn('lease lost: another run owns this operation now; stopping')
      return {}
    case 'crash': {
      // The database failed under a write: give the operation back to run
      // again shortly. If that fails too, the lease lapses and any engine
      // takes it over; either way the next run replays from checkpoints.
      log.error({ err: outcome.error }, 'a write failed under the run; it will run again')
      await end([], { kind: 'release', wakeAt: new Date(deps.clock.now() + BROKEN_RUN_RETRY_MS) })
      return {}
    }
    case 'timer': {
      const res = await end([...pending, outcome.row], { kind: 'release', wakeAt: new Date(outcome.wakeAt) })
      if (res && !res.held) log.warn('lease lost before the timer was set')
      // Due now when a cancel landed meanwhile (the statement's NOTIFY wakes a fetcher); else wake on time here.
      if (res?.held && !res.cancelRequested) deps.onTimer(queue, outcome.wakeAt)
      return {}
    }
    case 'release': {
      const res = await end(pending, { kind: 'release', wakeAt: new Date(deps.clock.now()) })
      if (!res?.held) log.warn('could not hand the operation back; its lease will lapse')
      return {}
    }
    case 'fail':
      log.error({ err: outcome.error }, 'operation failed by the engine')
      return finish(deps, op, pending, 'failed', undefined, toStoredError(outcome.error), end, log)
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
        return {}
      }
      return finish(deps, op, pending, ctx.cancelDelivered ? 'cancelled' : 'succeeded', outcome.value, null, end, log)
    case 'threw': {
      const err = outcome.error
      if (err instanceof CancelledError || (ctx.cancelDelivered && (err as { code?: unknown })?.code === 'cancelled')) {
        return finish(deps, op, pending, 'cancelled', undefined, toStoredError(err), end, log)
      }
      const stored = toStoredError(err)
      if (err instanceof StepFailedError) {
        stored.step = err.step
        const causeCode = (err.cause as { code?: unknown } | undefined)?.code
        stored.code = typeof causeCode === 'string' ? causeCode : err.code
      }
      return finish(deps, op, pending, 'failed', undefined, stored, end, log)
    }
  }
}

/**
 * The operation's end with its last checkpoints: one statement that also
 * frees its key and makes the next on the key due, or passes the key to that
 * next operation and claims it for this process (takeNext).
 */
async function finish (deps: RunnerDeps, op: Operation, pending: CheckpointRow[], status: 'succeeded' | 'failed' | 'cancelled', output: unknown, error: StoredError | null,
  end: (rows: CheckpointRow[], how: RunEnd) => Promise<RunWriteResult | null>, log: Logger): Promise<Ended> {
  const leaseSeconds = deps.takeNext()
  const sentAt = Date.now()
  const res = await end(pending, { kind: 'finish', status, output, error, ...(leaseSeconds !== null && { takeNext: { leaseSeconds } }) })
  if (!res) return {}
  if (!res.held || !res.finished) {
    log.warn('lease lost before the operation could finish')
    return {}
  }
  log.debug({ status }, 'operation finished')
  try {
    deps.events.emit('operation:finished', { name: op.name, status, durationMs: deps.clock.now() - op.created_at.getTime() })
  } catch (err) {
    // A listener's error must not lose the next operation this end claimed (it would wait for its lease to lapse).
    log.error({ err }, 'an operation:finished listener threw')
  }
  // The next operation is new (pending until now): it has no history.
  return { finished: { ...op, ...res.finished }, ...(res.next && { next: { operation: res.next, history: [], sentAt } }) }
}
