// The Context an orchestration runs with, for one run (one claimed lease).
// Positions count ctx calls in order; history maps them to checkpoints, so a
// replay returns stored results and only new positions execute.
//
// Checkpoints are written behind, within the same turn of the event loop: a
// finished step's row is held while the orchestration goes straight on, and
// joins whatever comes next in that turn: the write that must precede the
// next activity, or the transaction that ends the run (finish, timer,
// release: runner.ts), so a run's last step costs no commit of its own. If
// the orchestration does anything slower than that (awaits something that is
// not a ctx call), the rows are written at the next turn (setImmediate). So
// a crash re-runs a step only in the window it always could (between its
// activity resolving and the commit), and a step that ended before the next
// one started is never run again. A `$sleep` that ended is the one row that
// need not precede an activity: replay re-derives it from its timer.
import type { Logger } from '../logging.ts'
import { runAttempt, delay } from './attempt.ts'
import type { Clock } from './clock.ts'
import {
  CancelledError, NonDeterminismError, StepFailedError, fromStoredError, isRetryable, toStoredError, type StoredError
} from './errors.ts'
import { never, type Halt } from './halt.ts'
import { IN_PROCESS_BACKOFF_MAX_MS, backoffMs, resolvePolicy } from './policy.ts'
import { fromJsonb } from './sql/json.ts'
import type { RunWriter } from './run-writer.ts'
import type { CheckpointRow } from './sql/steps.ts'
import { StepTracker } from './step-tracker.ts'
import type {
  ActivityBinding, ActivityProxies, Context, ContinueAsNew, Operation, StepFn, StepPolicy, StepRecord
} from './types.ts'

export class ContinueAsNewRequest<I> implements ContinueAsNew<I> {
  readonly continueAsNew = true as const
  readonly input: I
  constructor (input: I) { this.input = input }
}

export interface RunOptions {
  writer: RunWriter
  operation: Operation
  lease: string
  history: StepRecord[]
  policy: Partial<StepPolicy>
  activities: ActivityBinding<any> | undefined
  clock: Clock
  log: Logger
  onStepFinished: (step: string, status: 'succeeded' | 'failed', durationMs: number) => void
}

const CANCELLED: StoredError = { message: 'operation cancelled', code: 'cancelled' }

export class RunContext implements Context<any> {
  readonly operationId: string
  readonly name: string
  readonly key: string
  readonly log: Logger
  readonly halted: Promise<Halt>
  #opts: RunOptions
  #history: Map<number, StepRecord>
  #position = 0
  #cancel = new AbortController()
  #cancelRequested: boolean
  #cancelDelivered: boolean
  #release = false
  #halt: Halt | null = null
  #resolveHalt!: (h: Halt) => void
  #activities: ActivityProxies<any> | undefined
  /** Checkpoints not written yet, in position order. */
  #pending: CheckpointRow[] = []
  #flushScheduled = false
  /** The last checkpoint write sent; always resolves (its outcome halts the run instead). */
  #writing: Promise<void> = Promise.resolve()

  constructor (opts: RunOptions) {
    this.#opts = opts
    this.operationId = opts.operation.id
    this.name = opts.operation.name
    this.key = opts.operation.key
    this.log = opts.log
    this.#history = new Map(opts.history.map(s => [s.position, s]))
    this.#cancelDelivered = opts.history.some(s => s.status === 'cancelled')
    this.#cancelRequested = opts.operation.cancel_requested_at !== null
    if (this.#cancelRequested) this.#cancel.abort(new CancelledError())
    this.halted = new Promise(resolve => { this.#resolveHalt = resolve })
  }

  get signal (): AbortSignal { return this.#cancel.signal }
  get haltReason (): Halt | null { return this.#halt }
  /** True once a CancelledError was thrown into the orchestration (now or in an earlier run). */
  get cancelDelivered (): boolean { return this.#cancelDelivered }

  get activities (): ActivityProxies<any> {
    if (!this.#activities) {
      const binding = this.#opts.activities
      if (!binding) throw new Error(`orchestration "${this.name}" was registered without activities`)
      const proxies: Record<string, (input: unknown) => Promise<unknown>> = {}
      for (const [key, options] of Object.entries(binding.table) as Array<[string, { name: string, policy?: Partial<StepPolicy> }]>) {
        proxies[key] = input => this.step(options.name, step => binding.implementations[key](input, step), options.policy)
      }
      this.#activities = proxies as ActivityProxies<any>
    }
    return this.#activities
  }

  requestCancel (): void {
    this.#cancelRequested = true
    if (!this.#cancel.signal.aborted) this.#cancel.abort(new CancelledError())
  }

  /** Graceful stop: halt at the next step boundary. */
  requestRelease (): void { this.#release = true }

  /**
   * Once every write sent has landed: the checkpoints not written yet, for
   * the transaction that ends the run (they commit with its end).
   */
  async takePending (): Promise<CheckpointRow[]> {
    await this.#writing
    return this.#pending.splice(0)
  }

  async step<T> (name: string, fn: StepFn<T>, policy?: Partial<StepPolicy>): Promise<T> {
    if (this.#halt) return never()
    const position = this.#position++
    const resolved = resolvePolicy(this.#opts.policy, policy)
    const rec = this.#history.get(position)
    let first = 1
    let startedAt = new Date(this.#opts.clock.now())
    if (rec) {
      if (rec.name !== name || rec.status === 'sleeping') return this.#nonDeterministic(position, rec.name, name)
      if (rec.status === 'succeeded') return fromJsonb(rec.output) as T
      if (rec.status === 'failed') throw new StepFailedError(name, rec.attempts, fromStoredError(rec.error ?? { message: 'failed' }))
      if (rec.status === 'cancelled') { this.#cancelDelivered = true; throw new CancelledError() }
      // running (a run died or was released mid-step: this attempt starts again)
      // or retrying (a durable back-off between attempts)
      first = rec.status === 'retrying' ? rec.attempts + 1 : rec.attempts
      startedAt = rec.started_at
    }
    if (this.#release) return this.#stop({ kind: 'release' })
    if (this.#cancelPending()) return this.#deliverCancel(position, name, first - 1, startedAt)
    const retryAt = rec?.status === 'retrying' ? (rec.output as { retryAt?: number } | undefined)?.retryAt : undefined
    if (rec && retryAt !== undefined && this.#opts.clock.now() < retryAt) {
      return this.#stop({ kind: 'timer', wakeAt: retryAt, row: { ...rowOf(rec), position } })
    }
    return this.#execute(position, name, fn, resolved, first, startedAt, rec !== undefined)
  }

  async #execute<T> (position: number, name: string, fn: StepFn<T>, policy: StepPolicy, first: number, startedAt: Date, visible: boolean): Promise<T> {
    // An activity may build on what earlier steps did: those must be durable
    // before it starts. The engine's own steps ($now, $uuid) have no effects.
    if (!name.startsWith('$')) {
      if (this.#pending.some(r => r.name !== '$sleep')) await this.#checkpoint()
      else await this.#writing
      if (this.#halt) return never()
    }
    const tracker = new StepTracker({
      write: row => this.#checkpoint(row),
      row: { position, name, startedAt },
      visible,
      log: this.log
    })
    try {
      for (let attempt = first; ; attempt++) {
        const t0 = performance.now()
        tracker.attempt = attempt
        let value: T
        try {
          value = await runAttempt(name, signal => fn({ signal, attempt, progress: reason => tracker.progress(reason) }),
            this.#cancelDelivered ? null : this.#cancel.signal, policy.timeoutMs)
        } catch (err) {
          await tracker.settle()
          if (this.#cancelPending()) return this.#deliverCancel(position, name, attempt, startedAt)
          if (!isRetryable(err) || attempt >= policy.maxAttempts) {
            this.#defer({ position, name, status: 'failed', attempts: attempt, startedAt, finishedAt: new Date(this.#opts.clock.now()), output: undefined, error: toStoredError(err), progress: null })
            this.#opts.onStepFinished(name, 'failed', performance.now() - t0)
            throw new StepFailedError(name, attempt, err)
          }
          const wait = backoffMs(policy, attempt + 1)
          this.log.warn({ step: name, attempt, retryInMs: wait, err }, 'step attempt failed, will retry')
          if (wait > IN_PROCESS_BACKOFF_MAX_MS) {
            const wakeAt = this.#opts.clock.now() + wait
            return this.#stop({ kind: 'timer', wakeAt, row: { position, name, status: 'retrying', attempts: attempt, startedAt, finishedAt: null, output: { retryAt: wakeAt }, error: toStoredError(err), progress: null } })
          }
          // A retry is worth showing (with its reason) however short the step.
          await tracker.retrying(attempt + 1, toStoredError(err))
          try {
            await delay(wait, this.#cancelDelivered ? null : this.#cancel.signal)
          } catch {
            return this.#deliverCancel(position, name, attempt, startedAt)
          }
          continue
        }
        await tracker.settle()
        // What a replay returns is the JSON round trip, so the first run gets the same.
        const stored = (value === undefined ? undefined : JSON.parse(JSON.stringify(value))) as T
        this.#defer({ position, name, status: 'succeeded', attempts: attempt, startedAt, finishedAt: new Date(this.#opts.clock.now()), output: stored, error: null, progress: null })
        this.#opts.onStepFinished(name, 'succeeded', performance.now() - t0)
        return stored
      }
    } finally {
      tracker.close()
    }
  }

  sleep (ms: number): Promise<void> {
    return this.sleepUntil(this.#opts.clock.now() + ms)
  }

  async sleepUntil (at: number): Promise<void> {
    if (this.#halt) return never()
    const position = this.#position++
    const name = '$sleep'
    const rec = this.#history.get(position)
    let wakeAt = at
    let startedAt = new Date(this.#opts.clock.now())
    if (rec) {
      if (rec.name !== name) return this.#nonDeterministic(position, rec.name, name)
      if (rec.status === 'succeeded') return
      if (rec.status === 'cancelled') { this.#cancelDelivered = true; throw new CancelledError() }
      wakeAt = (rec.output as { wakeAt: number }).wakeAt
      startedAt = rec.started_at
    }
    if (this.#cancelPending()) return this.#deliverCancel(position, name, 1, startedAt)
    const row: CheckpointRow = { position, name, status: 'sleeping', attempts: 1, startedAt, finishedAt: null, output: { wakeAt }, error: null, progress: null }
    if (this.#opts.clock.now() < wakeAt) return this.#stop({ kind: 'timer', wakeAt, row })
    this.#defer({ ...row, status: 'succeeded', finishedAt: new Date(this.#opts.clock.now()) })
  }

  now (): Promise<number> {
    return this.step('$now', async () => this.#opts.clock.now(), { maxAttempts: 1, timeoutMs: 0 })
  }

  uuid (): Promise<string> {
    return this.step('$uuid', async () => crypto.randomUUID(), { maxAttempts: 1, timeoutMs: 0 })
  }

  continueAsNew<I> (input: I): ContinueAsNew<I> {
    return new ContinueAsNewRequest(input)
  }

  #cancelPending (): boolean { return this.#cancelRequested && !this.#cancelDelivered }

  async #deliverCancel (position: number, name: string, attempts: number, startedAt: Date): Promise<never> {
    // Checkpointed, so a replay throws at the same position and compensation
    // steps after it keep their positions.
    this.#defer({ position, name, status: 'cancelled', attempts, startedAt, finishedAt: new Date(this.#opts.clock.now()), output: undefined, error: CANCELLED, progress: null })
    this.#cancelDelivered = true
    throw new CancelledError()
  }

  #nonDeterministic (position: number, recorded: string, requested: string): Promise<never> {
    return this.#stop({ kind: 'fail', error: new NonDeterminismError(position, recorded, requested) })
  }

  /**
   * Holds a finished row; written with what follows in this turn, else at the
   * next one. An ended `$sleep` alone waits for the next write or the run's
   * end: replay re-derives it from its timer, so it need not commit before
   * the activity that follows (a health check's tick saves a transaction).
   */
  #defer (row: CheckpointRow): void {
    this.#pending.push(row)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => {
      this.#flushScheduled = false
      if (!this.#halt && this.#pending.some(r => r.name !== '$sleep')) void this.#checkpoint()
    })
  }

  /**
   * Writes the pending rows (and `row`) after any write in flight, fenced by
   * the lease; halts the run when the lease is gone or the write failed.
   */
  #checkpoint (row?: CheckpointRow): Promise<void> {
    const rows = this.#pending.splice(0)
    if (row) rows.push(row)
    const write = { operationId: this.operationId, lease: this.#opts.lease, rows }
    const landed = this.#writing.then(() => this.#opts.writer.write(write).then(res => ({ res }), (error: unknown) => ({ error })))
    this.#writing = landed.then(() => {})
    return landed.then(r => {
      if ('error' in r) return this.#stop({ kind: 'crash', error: r.error })
      if (!r.res.held) return this.#stop({ kind: 'lease-lost' })
      if (r.res.cancelRequested) this.requestCancel()
    })
  }

  #stop (halt: Halt): Promise<never> {
    if (!this.#halt) {
      this.#halt = halt
      this.#resolveHalt(halt)
    }
    return never()
  }
}

function rowOf (rec: StepRecord): CheckpointRow {
  return { position: rec.position, name: rec.name, status: rec.status, attempts: rec.attempts, startedAt: rec.started_at, finishedAt: rec.finished_at, output: rec.output, error: rec.error, progress: rec.progress }
}
