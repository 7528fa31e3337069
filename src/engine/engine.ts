// The engine: registers orchestrations, starts and cancels operations, and
// runs them on pg-boss workers. See README.md for the model and guarantees.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { Logger } from 'pino'
import type { RunContext } from './context.ts'
import { Listener, type Notice } from './listener.ts'
import { ensureQueue, queueName } from './queues.ts'
import { runOperation, type RunnerDeps } from './runner.ts'
import {
  cancelUnstarted, insertOperation, markCancelRequested, selectByIdempotencyKey, selectOperation
} from './sql/operations.ts'
import { selectSteps } from './sql/steps.ts'
import { enqueueRun, inTransaction } from './tx.ts'
import type { Context, Operation, OrchestrationFn, Queryable, Registration, StepPolicy, StepRecord } from './types.ts'
import { Waiters } from './waiters.ts'
import { Workers } from './workers.ts'

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

export class Engine extends EventEmitter {
  #pool: pg.Pool
  #boss: PgBoss
  #log: Logger
  #concurrency: number
  #heartbeatSeconds: number
  #graceMs: number
  #registrations = new Map<string, Registration>()
  #queues = new Map<string, Promise<void>>()
  #active = new Map<string, RunContext>()
  #workers: Workers
  #waiters = new Waiters()
  #listener: Promise<Listener> | null = null
  #stopped = false

  constructor (opts: EngineOptions) {
    super()
    this.#pool = opts.pool
    this.#boss = opts.boss
    this.#log = opts.logger.child({ component: 'engine' })
    this.#concurrency = opts.concurrency ?? 4
    this.#heartbeatSeconds = opts.heartbeatSeconds ?? 10
    this.#graceMs = opts.graceMs ?? 10_000
    const deps: RunnerDeps = {
      pool: this.#pool,
      boss: this.#boss,
      logger: this.#log,
      events: this,
      registrations: this.#registrations,
      active: this.#active,
      onTimer: (queue, wakeAt) => this.#workers.wakeAt(queue, wakeAt)
    }
    this.#workers = new Workers({
      boss: this.#boss,
      log: this.#log,
      concurrency: this.#concurrency,
      pollingSeconds: opts.pollingIntervalSeconds ?? 2,
      run: job => runOperation(deps, job.data.operationId, job)
    })
  }

  register<I, O> (name: string, fn: (ctx: Context, input: I) => Promise<O>, opts: { stepPolicy?: Partial<StepPolicy> } = {}): void {
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
    await this.#ensureListener().catch(err => this.#log.warn({ err }, 'no listener; waitFor polls only'))
    return this.#waiters.wait(operationId, () => this.getOperation(operationId), opts.timeoutMs ?? 60_000)
  }

  /** Starts workers for every registered orchestration (nothing when concurrency is 0). */
  async work (): Promise<void> {
    if (this.#concurrency <= 0 || this.#stopped) return
    await this.#ensureListener()
    for (const reg of this.#registrations.values()) {
      await this.#ensureQueue(reg.queue)
      await this.#workers.start(reg.queue)
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
    await this.#workers.stopFetching(this.#graceMs)
    if (this.#workers.busy) {
      for (const ctx of this.#active.values()) ctx.requestRelease()
      await this.#workers.settled(this.#graceMs)
    }
    await this.#workers.drain()
    const listener = this.#listener
    this.#listener = null
    if (listener) await listener.then(l => l.close(), () => {})
  }

  #ensureQueue (queue: string): Promise<void> {
    let ready = this.#queues.get(queue)
    if (!ready) {
      ready = ensureQueue(this.#boss, queue, this.#heartbeatSeconds)
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
    else this.#waiters.wake(n.operationId)
  }
}
