// The engine: registers orchestrations, starts and cancels operations, and
// runs them on pg-boss workers. See README.md for the model and guarantees.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import type { Logger } from '../logging.ts'
import type { Queryable } from '../db/queryable.ts'
import { databaseClock, type Clock } from './clock.ts'
import type { RunContext } from './context.ts'
import { Listener, type Notice } from './listener.ts'
import { ensureQueue, queueName } from './queues.ts'
import { runOperation, type RunnerDeps } from './runner.ts'
import {
  announceStartJob, cancelUnstarted, claimOperations, deleteFinishedBefore, insertDueOperations, insertOperation, insertClaimedOperation, type Due, markCancelRequested, selectByIdempotencyKey, selectLive,
  selectAbandoned, selectLiveByKey, wakeNow, countLive, type LiveCount, selectOperation, selectOperations, selectTraceEvents, finishOperation, type TraceEvent
} from './sql/operations.ts'
import { selectOperationPage } from './sql/listing.ts'
import { selectSteps } from './sql/steps.ts'
import { enqueueStart, inTransaction, onTransactionEnd } from './tx.ts'
import type { ClaimedRun } from './claim.ts'
import type {
  ActivityBinding, Context, ContinueAsNew, Operation, OperationPage, OperationQuery, OrchestrationFn, OrchestrationHandle, Registration, StepPolicy, StepRecord
} from './types.ts'
import { Waiters } from './waiters.ts'
import { RunWriter } from './run-writer.ts'
import { StartWriter, type QueuedStart } from './start-writer.ts'
import { PlannerStatistics } from './statistics.ts'
import { Dispatcher } from './dispatcher.ts'

export interface EngineOptions {
  pool: pg.Pool
  /** Started by the caller; the engine fetches its jobs and wakes on its own NOTIFY, so pg-boss's LISTEN is not needed. */
  boss: PgBoss
  logger: Logger
  /** Runs at once per orchestration in this process (each registration may set its own); 0 = start and read only. Default 4. */
  concurrency?: number
  /**
   * Seconds a run's lease lasts unless its process renews it (every half of
   * it): a worker silent this long is presumed dead and its operations are
   * taken over by any engine at its next fetch. Default 10.
   */
  heartbeatSeconds?: number
  /** Leases taken over in a row (each run died) before sweepAbandoned() fails the operation. Default 10. */
  maxTakeovers?: number
  /** Seconds between backstop polls when NOTIFY is missed, and for durable timers set by other processes. Default 2. */
  pollingIntervalSeconds?: number
  /** stop(): milliseconds runs may go on before they are released at their next step boundary. Default 10 000. */
  graceMs?: number
  /** Where LISTEN connects when the pool goes through a transaction pooler; default: the pool's settings. */
  listenConnectionString?: string | undefined
}

export interface StartOptions {
  /** Operations with the same key run one at a time, in start order. */
  key: string
  /** A second start with the same idempotency key returns the first operation (`created: false`). */
  idempotencyKey?: string
  /** A client inside the caller's open transaction: the operation and its job commit with it. */
  db?: pg.ClientBase
  /** Keep every step's progress as events (traceSince): for operations someone watches. Default false. */
  trace?: boolean
}

export interface RegisterOptions<A> {
  /** The activities `ctx.activities` proxies, with their step names and retry policies. */
  activities?: ActivityBinding<A>
  /** Defaults for every step of this orchestration (each activity's policy overrides it). */
  stepPolicy?: Partial<StepPolicy>
  /**
   * Runs of this orchestration at once in this process, instead of the
   * engine's `concurrency` (an engine with concurrency 0 runs none). A run
   * waiting on a slow target holds its slot, so orchestrations that mostly
   * wait (health checks) want many.
   */
  concurrency?: number
  /**
   * Whether a start in a process with a slot free runs there at once (an
   * eager start; see start()). Default true. False queues every start, so
   * the worker that fetches it runs it: for long-lived operations (a
   * monitor per instance) that should spread over the workers rather than
   * stay with the process that started them.
   */
  eagerStart?: boolean
}

/** A worker slot held for an eager start: `fill` runs the claimed run in it, `giveBack` frees it unused. */
interface EagerSlot { fill: (run: ClaimedRun) => void, giveBack: () => void }

/** A typed handle for an orchestration registered elsewhere (another process), for start() and waitFor(). */
export function orchestration<I, O> (name: string): OrchestrationHandle<I, O> {
  return { name }
}

/** pg-boss's schema: the boss plugin and the tests create it under this name. */
const BOSS_SCHEMA = 'pgboss'

export class Engine extends EventEmitter {
  #pool: pg.Pool
  #boss: PgBoss
  #log: Logger
  #concurrency: number
  #heartbeatSeconds: number
  #maxTakeovers: number
  #graceMs: number
  #clock: Clock = databaseClock()
  #registrations = new Map<string, Registration>()
  #queues = new Map<string, Promise<void>>()
  #active = new Map<string, RunContext>()
  #dispatcher: Dispatcher
  #writer: RunWriter
  #starts: StartWriter
  #statistics: PlannerStatistics
  #waiters: Waiters
  #listener: Promise<Listener> | null = null
  #stopped = false
  #listenConnectionString: string | undefined

  constructor (opts: EngineOptions) {
    super()
    this.#pool = opts.pool
    this.#boss = opts.boss
    this.#log = opts.logger.child({ component: 'engine' })
    this.#concurrency = opts.concurrency ?? 4
    this.#heartbeatSeconds = opts.heartbeatSeconds ?? 10
    this.#maxTakeovers = opts.maxTakeovers ?? 10
    this.#graceMs = opts.graceMs ?? 10_000
    this.#listenConnectionString = opts.listenConnectionString
    this.#writer = new RunWriter(this.#pool, this.#log)
    this.#starts = new StartWriter(this.#pool)
    this.#statistics = new PlannerStatistics(this.#pool, this.#log)
    this.#waiters = new Waiters((opts.pollingIntervalSeconds ?? 2) * 1000)
    const deps: RunnerDeps = {
      pool: this.#pool,
      writer: this.#writer,
      boss: this.#boss,
      logger: this.#log,
      events: this,
      registrations: this.#registrations,
      active: this.#active,
      clock: this.#clock,
      // Late by up to the clock's uncertainty, never early: an early alarm finds nothing due by the database's clock.
      onTimer: (queue, wakeAt) => this.#dispatcher.wakeIn(queue, wakeAt - this.#clock.now() + this.#clock.uncertainty()),
      onRunEnded: (id, finished) => this.#waiters.wake(id, finished),
      takeNext: () => this.#dispatcher.fetching ? this.#heartbeatSeconds : null
    }
    this.#dispatcher = new Dispatcher({
      pool: this.#pool,
      boss: this.#boss,
      log: this.#log,
      pollingSeconds: opts.pollingIntervalSeconds ?? 2,
      leaseSeconds: this.#heartbeatSeconds,
      maxTakeovers: this.#maxTakeovers,
      run: run => runOperation(deps, run)
    })
  }

  /**
   * Registers an orchestration under its public name and returns its typed
   * handle. Throws when the name is taken. Register every orchestration in
   * every process that starts or runs it, before work().
   */
  register<I, O, A = Record<string, never>> (
    name: string,
    fn: (ctx: Context<A>, input: I) => Promise<O | ContinueAsNew<I>>,
    opts: RegisterOptions<A> = {}
  ): OrchestrationHandle<I, O> {
    if (this.#registrations.has(name)) throw new Error(`orchestration "${name}" is already registered`)
    this.#registrations.set(name, {
      name, queue: queueName(name), fn: fn as OrchestrationFn, stepPolicy: opts.stepPolicy ?? {}, activities: opts.activities, concurrency: opts.concurrency,
      eagerStart: opts.eagerStart ?? true
    })
    return orchestration<I, O>(name)
  }

  /**
   * Starts an operation, in the caller's transaction when `opts.db` is given
   * (a client inside inTransaction). When this process runs the
   * orchestration and has a slot free, the start also claims the operation
   * (the key rules apply as for any claim) and the run begins here as soon
   * as the transaction commits: an eager start, with no queue in between,
   * as in Temporal's eager workflow start. Without `idempotencyKey` a
   * start is one statement (in autocommit when `opts.db` is not given):
   * claimed, or else (no slot free, a busy key, an orchestration this
   * process does not run) inserted due now, where a fetch claims it from its
   * row, with no start job; in autocommit, such queued starts made while
   * one is being written share the next statement (StartWriter: a commit
   * per round, not per start). With `idempotencyKey` it is one row and, unless
   * claimed at once, one pg-boss job. Returns the operation
   * (`running` when claimed, else `pending`), or the existing one
   * (`created: false`) when `idempotencyKey` was used before.
   */
  async start<I, O> (handle: OrchestrationHandle<I, O>, input: I, opts: StartOptions): Promise<{ operation: Operation<O>, created: boolean }> {
    const name = handle.name
    const queue = queueName(name)
    await this.#ensureQueue(queue)
    const eager = this.#registrations.get(name)?.eagerStart ?? false
    const fields = { id: randomUUID(), name, key: opts.key, input, trace: opts.trace ?? false }
    // Without an idempotency key nothing can conflict: the insert and the claim are one statement.
    const oneStatement = opts.idempotencyKey === undefined
    let reserved = false
    const go = async (client: pg.ClientBase): Promise<{ operation: Operation<O>, created: boolean }> => {
      const slot = this.#eagerSlot(queue, client, reserved)
      reserved = false
      if (oneStatement) return slot ? this.#startInOneStatement<O>(client, fields, slot) : this.#queueInOneStatement<O>(client, fields)
      const operation = await insertOperation(client, { ...fields, idempotencyKey: opts.idempotencyKey as string }, { wake: !slot })
      if (!operation) {
        slot?.giveBack()
        const existing = await selectByIdempotencyKey(client, opts.idempotencyKey as string)
        if (!existing) throw new Error('idempotency key conflict, but no operation holds it')
        return { operation: existing as Operation<O>, created: false }
      }
      if (slot) {
        const sentAt = Date.now()
        const [claimed] = await claimOperations(client, [{ operationId: operation.id, lease: randomUUID(), jobId: null }], this.#heartbeatSeconds)
        if (claimed) return this.#startedEagerly<O>(claimed, sentAt, slot)
        // Its key is busy: queued like any other start.
        slot.giveBack()
        await announceStartJob(client, name)
      }
      await enqueueStart(this.#boss, client, queue, operation.id)
      return { operation: operation as Operation<O>, created: true }
    }
    if (opts.db) {
      // Inside the caller's transaction: never wait for a slot while holding it.
      reserved = eager && this.#dispatcher.reserveNow(queue)
      return go(opts.db)
    }
    // No connection is held yet, so waiting for a fetch in flight to give slots back blocks nothing.
    reserved = eager && await this.#dispatcher.reserve(queue)
    if (oneStatement) {
      // One statement, in autocommit: committed when it returns, so a claimed run takes the slot at once.
      // Queued, it shares its statement with the starts made meanwhile (StartWriter).
      if (!reserved) return { operation: await this.#starts.insert(fields) as Operation<O>, created: true }
      reserved = false
      return this.#startInOneStatement<O>(this.#pool, fields, { fill: run => this.#dispatcher.runReserved(queue, run), giveBack: () => this.#dispatcher.unreserve(queue) })
    }
    try {
      return await inTransaction(this.#pool, go)
    } finally {
      // No client came (the pool failed): the slot was never used.
      if (reserved) this.#dispatcher.unreserve(queue)
    }
  }

  /**
   * An eager start without an idempotency key (insertClaimedOperation):
   * claimed, its run goes to `slot`; else its key was busy, the slot is
   * given back, and the operation waits, due now, for a fetch. A failed
   * statement gives the slot back too.
   */
  async #startInOneStatement<O> (db: Queryable, fields: { id: string, name: string, key: string, input: unknown, trace: boolean }, slot: EagerSlot): Promise<{ operation: Operation<O>, created: true }> {
    const sentAt = Date.now()
    const row = await insertClaimedOperation(db, fields, randomUUID(), this.#heartbeatSeconds).catch((err: unknown) => { slot.giveBack(); throw err })
    return this.#startedEagerly<O>(row, sentAt, slot)
  }

  /**
   * A start without an idempotency key and no slot for it here, in the
   * caller's transaction (in autocommit, StartWriter shares the statement):
   * inserted pending and due now, waking the fetchers (NOTIFY 'w:'), which
   * claim it from its row as they claim timers, oldest due first. A start
   * job would cost a pg-boss row, its send and its completion, and give the
   * same delivery: the row is the operation's only record either way.
   */
  async #queueInOneStatement<O> (db: Queryable, fields: QueuedStart): Promise<{ operation: Operation<O>, created: true }> {
    const [operation] = await insertDueOperations(db, [fields])
    return { operation: operation as Operation<O>, created: true }
  }

  /** An eager start's row: claimed (lease set), its run goes to `slot`; else the slot is given back. */
  #startedEagerly<O> (row: Due, sentAt: number, slot: EagerSlot): { operation: Operation<O>, created: true } {
    const { lease, lease_job: _job, db_now: _now, ...operation } = row
    if (lease === null) slot.giveBack()
    else slot.fill({ operation: { ...row, lease }, history: [], sentAt })
    return { operation: operation as Operation<O>, created: true }
  }

  /**
   * The slot of `queue` that `reserved` says this start holds, kept for an
   * eager start in the transaction `client` is in: the run fills it once
   * that commits; an abort, or giveBack(), frees it. Null when no slot is
   * held, or when the transaction's end cannot be seen (a client not inside
   * inTransaction; the slot is given back).
   */
  #eagerSlot (queue: string, client: pg.ClientBase, reserved: boolean): EagerSlot | null {
    if (!reserved) return null
    let held = true
    let run: ClaimedRun | undefined
    const giveBack = (): void => {
      if (held) this.#dispatcher.unreserve(queue)
      held = false
    }
    const committed = (): void => {
      if (run && held) this.#dispatcher.runReserved(queue, run)
      else giveBack()
      held = false
    }
    if (!onTransactionEnd(client, { committed, aborted: giveBack })) {
      giveBack()
      return null
    }
    return { fill: r => { run = r }, giveBack }
  }

  /** Requests cancellation; false when the operation is already finished (or unknown). */
  async cancel (operationId: string, opts: { db?: pg.ClientBase, reason?: string } = {}): Promise<boolean> {
    const go = async (client: pg.ClientBase): Promise<boolean> => {
      const mark = await markCancelRequested(client, operationId, opts.reason ?? null)
      if (!mark) return false
      if (mark.status === 'pending' && mark.attempts === 0) {
        // Never ran: nothing to compensate, so it ends here, and frees its key.
        const key = await cancelUnstarted(client, operationId, { message: opts.reason ?? 'cancelled before it started', code: 'cancelled' })
        if (key !== null) {
          // An operation refused behind this one (it was older and pending) may be invisible to that
          // statement's snapshot: look again once the cancel commits. Without a transaction end to see
          // (a client not from inTransaction), the abandoned-operation sweep wakes it.
          onTransactionEnd(client, { committed: () => { this.#writer.lookAgain([key]) }, aborted: () => {} })
          this.emit('operation:finished', { name: mark.name, status: 'cancelled', durationMs: 0 })
          return true
        }
      }
      // Asleep or between runs: markCancelRequested made it due now, so it
      // runs its cleanup instead of waiting out its timer. A running one
      // hears the NOTIFY (or reads the flag at its next write).
      return true
    }
    return opts.db ? go(opts.db) : inTransaction(this.#pool, go)
  }

  getOperation (operationId: string, db?: Queryable): Promise<Operation | null> {
    return selectOperation(db ?? this.#pool, operationId)
  }

  /** The step timeline, by position; `$`-named records are the engine's own (now, uuid, sleep). */
  getSteps (operationId: string, db?: Queryable): Promise<StepRecord[]> {
    return selectSteps(db ?? this.#pool, operationId)
  }

  /** The subset of `operationIds` that is still pending or running. */
  async liveAmong (operationIds: string[], db?: Queryable): Promise<Set<string>> {
    return new Set(await selectLive(db ?? this.#pool, operationIds))
  }

  /** Pending and running operations on `key` (of orchestration `handle` when given), oldest first. */
  liveOnKey (key: string, handle?: OrchestrationHandle<unknown, unknown>, db?: Queryable): Promise<Operation[]> {
    return selectLiveByKey(db ?? this.#pool, key, handle?.name)
  }

  /**
   * Step events of traced operations among `operationIds` after event id
   * `afterId` ("0" for all), oldest first, at most `limit`: started (a
   * running step), progress, retrying, succeeded, failed, and each
   * operation's end (`$operation`).
   */
  traceSince (operationIds: string[], afterId: string, limit = 500, db?: Queryable): Promise<TraceEvent[]> {
    return selectTraceEvents(db ?? this.#pool, operationIds, afterId, limit)
  }

  /** Live operations per orchestration (pending, due, waiting, running), for gauges and backlog checks. */
  countLive (db?: Queryable): Promise<LiveCount[]> {
    return countLive(db ?? this.#pool)
  }

  /** Operations by id, in one query (missing ones are left out). */
  getOperations (operationIds: string[], db?: Queryable): Promise<Operation[]> {
    return selectOperations(db ?? this.#pool, operationIds)
  }

  /**
   * Operations newest first (created_at, then id), a page of `limit` at a
   * time, narrowed by the query's filters; `next` continues after the page.
   * An operation started after a page was read sorts before that page, so
   * paging neither repeats nor skips one (created_at is the start's
   * transaction time: one that commits late may sort behind a page already
   * read). Without steps: getSteps has those.
   */
  listOperations (query: OperationQuery, db?: Queryable): Promise<OperationPage> {
    return selectOperationPage(db ?? this.#pool, query)
  }

  /**
   * Ends or wakes operations that nothing would run again, so none stays
   * `running` or `pending` for good: one whose runs kept dying (its lease
   * lapsed `maxTakeovers` times in a row) fails, saying so, and frees its key
   * for the next; one between runs without a wake-up time, or a pending one
   * whose start job is gone while its key is free, is woken. Returns how
   * many of each. Safe to run from several processes (every write is fenced).
   */
  async sweepAbandoned (limit = 100): Promise<{ failed: number, woken: number }> {
    let failed = 0
    let woken = 0
    for (const a of await selectAbandoned(this.#pool, BOSS_SCHEMA, this.#maxTakeovers, limit)) {
      if (a.lease === null) {
        if (await wakeNow(this.#pool, a.id)) woken++
        continue
      }
      const error = { message: `its runs kept dying (${a.takeovers} in a row: the worker process crashed or lost the database each time); the operation cannot go on`, code: 'abandoned' }
      if (await finishOperation(this.#pool, a.id, a.lease, 'failed', undefined, error)) {
        failed++
        this.#log.error({ operationId: a.id, orchestration: a.name, takeovers: a.takeovers }, 'operation abandoned: its runs kept dying; failed it')
        this.emit('operation:finished', { name: a.name, status: 'failed', durationMs: 0 })
      }
    }
    return { failed, woken }
  }

  /** Deletes up to `limit` finished operations older than `retentionSeconds`, with their steps; returns how many. */
  pruneFinished (retentionSeconds: number, limit = 1000): Promise<number> {
    return deleteFinishedBefore(this.#pool, retentionSeconds, limit)
  }

  /**
   * Resolves with the operation once it is finished (woken by NOTIFY, or at
   * once by the end of its run in this process; polls as a backstop); typed
   * by `handle` when given. Rejects after `timeoutMs`
   * (default 60 000) or when the operation does not exist.
   */
  waitFor<I, O> (handle: OrchestrationHandle<I, O>, operationId: string, opts?: { timeoutMs?: number }): Promise<Operation<O>>
  waitFor (operationId: string, opts?: { timeoutMs?: number }): Promise<Operation>
  async waitFor (a: OrchestrationHandle<unknown, unknown> | string, b?: string | { timeoutMs?: number }, c?: { timeoutMs?: number }): Promise<Operation> {
    const operationId = typeof a === 'string' ? a : b as string
    const opts = (typeof a === 'string' ? b as { timeoutMs?: number } | undefined : c) ?? {}
    await this.#ensureListener().catch(err => this.#log.warn({ err }, 'no listener; waitFor polls only'))
    // Running here: its run's end wakes the waiter (with the operation), so reads can wait for it.
    return this.#waiters.wait(operationId, () => this.getOperation(operationId), opts.timeoutMs ?? 60_000, () => this.#active.has(operationId))
  }

  /** Epoch milliseconds by the database's clock, as this engine last observed it (every claim, and work()). */
  now (): number {
    return this.#clock.now()
  }

  /** Starts workers for every registered orchestration (nothing when concurrency is 0). */
  async work (): Promise<void> {
    if (this.#concurrency <= 0 || this.#stopped) return
    const sentAt = Date.now()
    const { rows } = await this.#pool.query<{ now: Date }>('SELECT clock_timestamp() AS now')
    this.#clock.observe(rows[0]!.now.getTime(), sentAt, Date.now())
    await this.#ensureListener()
    for (const reg of this.#registrations.values()) {
      await this.#ensureQueue(reg.queue)
      this.#dispatcher.start(reg.name, reg.queue, reg.concurrency ?? this.#concurrency)
    }
    // Workers keep the planner's view of the engine's tables current.
    this.#statistics.start()
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
    await this.#statistics.stop()
    await this.#dispatcher.stopFetching(this.#graceMs)
    if (this.#dispatcher.busy) {
      for (const ctx of this.#active.values()) ctx.requestRelease()
      await this.#dispatcher.settled(this.#graceMs)
    }
    this.#dispatcher.close()
    // The runs' last writes are done; what follows them (waking the next operations on freed keys) lands too,
    // within the grace period: a database that stopped answering must not hold up the shutdown.
    await Promise.race([this.#writer.drained(), delay(this.#graceMs, undefined, { ref: false })])
    const listener = this.#listener
    this.#listener = null
    if (listener) await listener.then(l => l.close(), () => {})
  }

  #ensureQueue (queue: string): Promise<void> {
    let ready = this.#queues.get(queue)
    if (!ready) {
      ready = ensureQueue(this.#boss, queue)
      ready.catch(() => this.#queues.delete(queue))
      this.#queues.set(queue, ready)
    }
    return ready
  }

  #ensureListener (): Promise<Listener> {
    if (!this.#listener) {
      const config = this.#listenConnectionString ? { connectionString: this.#listenConnectionString } : this.#pool.options
      const listener = new Listener(config, n => this.#onNotice(n), this.#log)
      this.#listener = listener.start().then(() => listener)
      this.#listener.catch(() => { this.#listener = null })
    }
    return this.#listener
  }

  #onNotice (n: Notice): void {
    // The payload names an orchestration (its queue is queueName of it).
    if (n.kind === 'wake') this.#dispatcher.wake(queueName(n.queue))
    else if (n.kind === 'jobs') this.#dispatcher.jobsSent(queueName(n.queue))
    else if (n.kind === 'cancel') this.#active.get(n.operationId)?.requestCancel()
    else if (n.kind === 'trace') this.emit('trace', { operationId: n.operationId })
    else {
      // A run here wakes its waiters itself as it ends, with the operation (this NOTIFY can arrive first).
      if (!this.#active.has(n.operationId)) this.#waiters.wake(n.operationId)
      this.emit('trace', { operationId: n.operationId })
    }
  }

  /**
   * Starts listening (when this process does not run workers, nothing else
   * would): 'trace' events then arrive for every traced operation's step
   * write and every operation's end, in any process.
   */
  async listen (): Promise<void> {
    await this.#ensureListener()
  }
}
