// The engine: registers orchestrations, starts and cancels operations, and
// runs them on pg-boss workers. See README.md for the model and guarantees.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { RunContext } from './context.ts'
import { Listener, type Notice } from './listener.ts'
import { queueName } from './queues.ts'
import { runOperation } from './runner.ts'
import {
  cancelUnstarted, insertOperation, markCancelRequested, selectByIdempotencyKey, selectOperation
} from './sql/operations.ts'
import { selectSteps } from './sql/steps.ts'
import { enqueueRun, inTransaction, type JobData } from './tx.ts'
import type { Operation, OrchestrationFn, Queryable, Registration, StepPolicy, StepRecord } from './types.ts'

export interface EngineOptions {
  pool: pg.Pool
  /** Started by the caller, with useListenNotify: true for low pickup latency. */
  boss: PgBoss
  logger: Logger
  /** Worker slots per orchestration queue in this process; 0 = start and read only. Default 4. */
  concurrency?: number
  /** pg-boss heartbeat of running jobs: a worker silent this long is presumed dead. Default 10 (pg-boss minimum). */
  heartbeatSeconds?: number
  /** Backstop polling when NOTIFY is missed, and for durable timers set by other processes. Default 2. */
  pollingIntervalSeconds?: number
  /** stop(): how long runs may go on before they are released at their next step boundary. Default 10 s. */
  graceMs?: number
}

export interface StartOptions {
  /** Operations with the same key run one at a time, in start order. */
  key: string
  idempotencyKey?: string
  /** A client inside the caller's open transaction: the operation and its job commit with it. */
  db?: pg.ClientBase
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])

export class Engine extends EventEmitter {
  #pool: pg.Pool
  #boss: PgBoss
  #log: Logger
  #concurrency: number
  #heartbeatSeconds: number
  #pollingSeconds: number
  #graceMs: number
  #registrations = new Map<string, Registration>()
  #queues = new Map<string, Promise<void>>()
  #active = new Map<string, RunContext>()
  #running = new Set<Promise<void>>()
  #workers: Array<{ queue: string, id: string }> = []
  #waiters = new Map<string, Set<() => void>>()
  #timers = new Set<NodeJS.Timeout>()
  #listener: Promise<Listener> | null = null
  #stopped = false

  constructor (opts: EngineOptions) {
    super()
    this.#pool = opts.pool
    this.#boss = opts.boss
    this.#log = opts.logger.child({ component: 'engine' })
    this.#concurrency = opts.concurrency ?? 4
    this.#heartbeatSeconds = opts.heartbeatSeconds ?? 10
    this.#pollingSeconds = opts.pollingIntervalSeconds ?? 2
    this.#graceMs = opts.graceMs ?? 10_000
  }

  register<I, O> (name: string, fn: (ctx: import('./types.ts').Context, input: I) => Promise<O>, opts: { stepPolicy?: Partial<StepPolicy> } = {}): void {
    if (this.#registrations.has(name)) throw new Error(`orchestration "${name}" is already registered`)
    this.#registrations.set(name, { name, queue: queueName(name), fn: fn as OrchestrationFn, stepPolicy: opts.stepPolicy ?? {} })
  }

  async start<I> (name: string, input: I, opts: StartOptions): Promise<{ operation: Operation, created: boolean }> {
    const queue = queueName(name)
    await this.#ensureQueue(queue)
    const go = async (client: pg.ClientBase): Promise<{ operation: Operation, created: boolean }> => {
      const operation = await insertOperation(client, { id: randomUUID(), name, key: opts.key, input, idempotencyKey: opts.idempotencyKey })
      if (operation) {
        await enqueueRun(this.#boss, client, queue, operation.id)
        return { operation, created: true }
      }
      const existing = await selectByIdempotencyKey(client, opts.idempotencyKey as string)
      if (!existing) throw new Error('idempotency key conflict, but no operation holds it')
      return { operation: existing, created: false }
    }
    return opts.db ? go(opts.db) : inTransaction(this.#pool, go)
  }

  /** Requests cancellation; false when the operation is already finished (or unknown). */
  async cancel (operationId: string, opts: { db?: pg.ClientBase, reason?: string } = {}): Promise<boolean> {
    const go = async (client: pg.ClientBase): Promise<boolean> => {
      const mark = await markCancelRequested(client, operationId, opts.reason ?? null)
      if (!mark) return false
      if (mark.status === 'pending' && mark.attempts === 0) {
        // Never ran: nothing to compensate, so it ends here, and frees its key.
        const done = await cancelUnstarted(client, operationId, { message: opts.reason ?? 'cancelled before it started', code: 'cancelled' })
        if (done) {
          if (done.next_id && done.next_name) await enqueueRun(this.#boss, client, queueName(done.next_name), done.next_id)
          this.emit('operation:finished', { name: mark.name, status: 'cancelled', durationMs: 0 })
          return true
        }
      }
      // Asleep or between runs: wake it now so it runs its cleanup instead of
      // waiting out its timer. A running one hears the NOTIFY.
      if (mark.idle) await enqueueRun(this.#boss, client, queueName(mark.name), operationId)
      return true
    }
    return opts.db ? go(opts.db) : inTransaction(this.#pool, go)
  }

  getOperation (operationId: string, db?: Queryable): Promise<Operation | null> {
    return selectOperation(db ?? this.#pool, operationId)
  }

  getSteps (operationId: string, db?: Queryable): Promise<StepRecord[]> {
    return selectSteps(db ?? this.#pool, operationId)
  }

  /** Resolves with the operation once it is finished; woken by NOTIFY, polls as a backstop. */
  async waitFor (operationId: string, opts: { timeoutMs?: number } = {}): Promise<Operation> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
    await this.#ensureListener().catch(err => this.#log.warn({ err }, 'no listener; waitFor polls only'))
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      let wake: () => void = () => {}
      const woken = new Promise<void>(resolve => { wake = resolve })
      const set = this.#waiters.get(operationId) ?? new Set()
      this.#waiters.set(operationId, set.add(wake))
      try {
        const op = await this.getOperation(operationId)
        if (!op) throw new Error(`operation ${operationId} does not exist`)
        if (TERMINAL.has(op.status)) return op
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`operation ${operationId} still ${op.status} after waiting`)
        await Promise.race([woken, new Promise<void>(resolve => { timer = setTimeout(resolve, Math.min(250, left)) })])
      } finally {
        clearTimeout(timer)
        set.delete(wake)
        if (set.size === 0) this.#waiters.delete(operationId)
      }
    }
  }

  /** Starts workers for every registered orchestration (nothing when concurrency is 0). */
  async work (): Promise<void> {
    if (this.#concurrency <= 0 || this.#stopped) return
    await this.#ensureListener()
    for (const reg of this.#registrations.values()) {
      if (this.#workers.some(w => w.queue === reg.queue)) continue
      await this.#ensureQueue(reg.queue)
      // One pg-boss worker per slot, each with its own id, so a worker that
      // just finished a job can be told to fetch again at once: pg-boss would
      // otherwise wait out its polling interval after every job (batchSize 1
      // never bursts), capping a slot at one operation per interval.
      for (let slot = 0; slot < this.#concurrency; slot++) {
        let self: string | undefined
        const id = await this.#boss.work<JobData>(reg.queue, {
          pollingIntervalSeconds: this.#pollingSeconds,
          notifyPollingIntervalSeconds: this.#pollingSeconds
        }, async jobs => {
          for (const job of jobs) await this.#track(runOperation(this.#deps(), job.data.operationId, job))
          if (self && !this.#stopped) this.#boss.notifyWorker(self)
        })
        self = id
        this.#workers.push({ queue: reg.queue, id })
      }
    }
  }

  /**
   * Graceful: stop fetching; let runs go on for graceMs; then ask the rest to
   * give their operation back at their next step boundary (lease released and
   * re-enqueued, so another worker resumes it at once). A run stuck inside a
   * step past a second grace period is left to heartbeat expiry.
   */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await Promise.all(this.#workers.map(w => this.#boss.offWork(w.queue, { id: w.id, wait: false })))
    await this.#settled(this.#graceMs)
    if (this.#running.size > 0) {
      for (const ctx of this.#active.values()) ctx.requestRelease()
      await this.#settled(this.#graceMs)
    }
    if (this.#running.size === 0) await Promise.all(this.#workers.map(w => this.#boss.offWork(w.queue, { id: w.id, wait: true })))
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    const listener = this.#listener
    this.#listener = null
    if (listener) await listener.then(l => l.close(), () => {})
  }

  #deps () {
    return {
      pool: this.#pool,
      boss: this.#boss,
      logger: this.#log,
      events: this,
      registrations: this.#registrations,
      active: this.#active,
      onTimer: (queue: string, wakeAt: number) => this.#wakeAt(queue, wakeAt)
    }
  }

  async #track (run: Promise<void>): Promise<void> {
    this.#running.add(run)
    try {
      await run
    } catch (err) {
      // The job fails and pg-boss retries it; the retry replays from checkpoints.
      this.#log.error({ err }, 'run failed outside the orchestration; its job will be retried')
      throw err
    } finally {
      this.#running.delete(run)
    }
  }

  async #settled (ms: number): Promise<void> {
    if (this.#running.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise(resolve => { timer = setTimeout(resolve, ms) })
    ])
    clearTimeout(timer)
  }

  /** A local alarm so a short durable timer fires on time, not at the next poll. */
  #wakeAt (queue: string, wakeAt: number): void {
    if (this.#stopped) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      for (const w of this.#workers) if (w.queue === queue) this.#boss.notifyWorker(w.id)
    }, Math.max(0, wakeAt - Date.now()) + 5)
    timer.unref()
    this.#timers.add(timer)
  }

  #ensureQueue (queue: string): Promise<void> {
    let ready = this.#queues.get(queue)
    if (!ready) {
      ready = (async () => {
        if (await this.#boss.getQueue(queue)) return
        await this.#boss.createQueue(queue, {
          notify: true,
          heartbeatSeconds: this.#heartbeatSeconds,
          // A job fails only when its worker died or the database failed under
          // it; the retry replays from checkpoints, so retry for a long time.
          retryLimit: 1000,
          retryDelay: 1,
          retryBackoff: true,
          retryDelayMax: 30,
          expireInSeconds: 24 * 60 * 60
        })
      })()
      ready.catch(() => this.#queues.delete(queue))
      this.#queues.set(queue, ready)
    }
    return ready
  }

  #ensureListener (): Promise<Listener> {
    if (!this.#listener) {
      const listener = new Listener(this.#pool.options, n => this.#onNotice(n), this.#log)
      this.#listener = listener.start().then(() => listener)
      this.#listener.catch(() => { this.#listener = null })
    }
    return this.#listener
  }

  #onNotice (n: Notice): void {
    if (n.kind === 'cancel') this.#active.get(n.operationId)?.requestCancel()
    else for (const wake of this.#waiters.get(n.operationId) ?? []) wake()
  }
}
