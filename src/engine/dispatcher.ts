// Hands an engine's work to its runs: one fetcher per orchestration, with a
// number of slots. A fetch claims as many runs as there are free slots, due
// rows and pg-boss jobs alike (claim.ts: one statement for due rows, a
// transaction for jobs), so a woken orchestration costs one or two round
// trips whatever the batch size, and an idle one woken by one NOTIFY makes
// one fetch, not one per slot. The dispatcher
// keeps the leases of its runs alive (one statement for all of them every
// half lease), so another engine takes an operation over only when this
// process died or lost the database for a whole lease.
import { setTimeout as delay } from 'node:timers/promises'
import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import type { Logger } from '../logging.ts'
import { claimRuns, type ClaimedRun, type ClaimSettings } from './claim.ts'
import { releaseLease, renewLeases } from './sql/operations.ts'

export interface DispatcherOptions {
  pool: pg.Pool
  boss: PgBoss
  log: Logger
  /** Seconds between backstop fetches (NOTIFY missed, or a timer set by another process). */
  pollingSeconds: number
  /** Seconds a run's lease lasts unless renewed; renewed twice per period. */
  leaseSeconds: number
  /** See ClaimSettings.maxTakeovers. */
  maxTakeovers: number
  /** Runs one claimed run; resolves with the next run its end claimed for its slot (the next operation on its key), if any. */
  run: (run: ClaimedRun) => Promise<ClaimedRun | undefined>
}

/** Milliseconds before a failed fetch (database unreachable, deadlock) is tried again. */
const FETCH_RETRY_MS = 1000
/** SQLSTATE 40P01: the transaction was chosen to break a deadlock, and rolled back. */
const DEADLOCK_DETECTED = '40P01'
/** Fetches of one orchestration in flight at once in a process. */
const MAX_FETCHES = 4

export class Dispatcher {
  #o: DispatcherOptions
  #queues = new Map<string, QueueFetcher>()
  /** Leases of this process's runs in flight, by operation id. */
  #leases = new Map<string, string>()
  #heartbeat: NodeJS.Timeout
  #stopped = false

  constructor (opts: DispatcherOptions) {
    this.#o = opts
    this.#heartbeat = setInterval(() => this.#renew(), opts.leaseSeconds * 500)
    this.#heartbeat.unref()
  }

  /** Runs in flight, over every queue. */
  get busy (): boolean { return [...this.#queues.values()].some(q => q.running > 0) }

  /** False once stopFetching() began: a run ending now must not claim the next on its key. */
  get fetching (): boolean { return !this.#stopped }

  /** Starts fetching for orchestration `name` (pg-boss queue `queue`) with `slots` runs at once (idempotent). */
  start (name: string, queue: string, slots: number): void {
    if (this.#stopped || this.#queues.has(queue) || slots <= 0) return
    const settings: ClaimSettings = { name, queue, leaseSeconds: this.#o.leaseSeconds, maxTakeovers: this.#o.maxTakeovers }
    const fetcher = new QueueFetcher(settings, slots, this.#o, this.#leases)
    this.#queues.set(queue, fetcher)
    fetcher.wake()
  }

  /** New work may be waiting on `queue` (a NOTIFY, a start in this process). */
  wake (queue: string): void {
    this.#queues.get(queue)?.wake()
  }

  /** A start job was sent on `queue` (NOTIFY 'j:'): the next fetch asks pg-boss. */
  jobsSent (queue: string): void {
    this.#queues.get(queue)?.jobsSent()
  }

  /**
   * Takes a free slot of `queue` for a run claimed outside a fetch (an
   * eager start, engine.start); false when none is free, fetching stopped,
   * or this process does not run the orchestration. When every free slot is
   * asked for by fetches in flight, waits for one of them to end (the slots
   * it did not fill come back), once: never call it holding a connection a
   * fetch may need. The slot is held until runReserved() or unreserve().
   */
  async reserve (queue: string): Promise<boolean> {
    const fetcher = this.#stopped ? undefined : this.#queues.get(queue)
    return fetcher ? fetcher.reserve() : false
  }

  /** reserve() without waiting: for a start inside a transaction, which must not wait while it holds one. */
  reserveNow (queue: string): boolean {
    return !this.#stopped && (this.#queues.get(queue)?.reserveNow() ?? false)
  }

  /** Runs `run` in the slot reserve() took. */
  runReserved (queue: string, run: ClaimedRun): void {
    this.#queues.get(queue)!.runReserved(run)
  }

  /** Gives back, unused, a slot reserve() took. */
  unreserve (queue: string): void {
    this.#queues.get(queue)!.unreserve()
  }

  /** A local alarm in `ms` milliseconds, so a durable timer fires on time, not at the next poll. */
  wakeIn (queue: string, ms: number): void {
    this.#queues.get(queue)?.wakeIn(ms)
  }

  /** Stops fetching; resolves once runs are done or `graceMs` passed. Held jobs stay alive until close(). */
  async stopFetching (graceMs: number): Promise<void> {
    this.#stopped = true
    for (const q of this.#queues.values()) q.stopFetching()
    await this.settled(graceMs)
  }

  /** Resolves when every run ended, or after `ms`. */
  async settled (ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.#queues.values()].map(q => q.idle())), delay(ms, undefined, { ref: false })])
  }

  /** Stops renewing leases: a run still going loses its operation when its lease lapses. */
  close (): void {
    for (const q of this.#queues.values()) q.stopFetching()
    clearInterval(this.#heartbeat)
  }

  #renew (): void {
    if (this.#leases.size === 0) return
    const held = [...this.#leases].map(([operationId, lease]) => ({ operationId, lease }))
    renewLeases(this.#o.pool, held, this.#o.leaseSeconds).catch((err: unknown) =>
      this.#o.log.warn({ err }, 'renewing the leases of running operations failed; they lapse if this lasts'))
  }
}

class QueueFetcher {
  readonly #settings: ClaimSettings
  readonly #slots: number
  readonly #o: DispatcherOptions
  /** The dispatcher's leases, shared by every fetcher. */
  readonly #leases: Map<string, string>
  #running = 0
  /** Slots taken by reserve() for runs claimed elsewhere, not yet running. */
  #reserved = 0
  /** Fetches in flight, and the slots they asked for. */
  #fetches = 0
  #asked = 0
  /** When pg-boss was last asked for jobs (performance.now()): due rows filling every fetch must not starve starts. */
  #askedJobsAt = performance.now()
  /**
   * Start jobs may be waiting while more notices of them (NOTIFY 'j:', and
   * one per polling interval as a backstop) arrived than the last fetch that
   * found pg-boss's queue short had seen when it was sent. Asking pg-boss
   * costs a transaction, so a fetch that due rows do not fill asks only then.
   */
  #jobNotices = 1
  #jobNoticesSeen = 0
  /** Work may be waiting: set by wakes, and by a fetch that filled every free slot. */
  #dirty = false
  #stopped = false
  #alarms = new Set<NodeJS.Timeout>()
  #poll: NodeJS.Timeout
  /** Hand-backs (releaseLease) of runs claimed as fetching stopped, not yet answered. */
  #handingBack = 0
  #idle: Array<() => void> = []
  /** reserve() calls waiting for a fetch in flight to end: each gets a slot then, or none. */
  #fetchEnded: Array<(reserved: boolean) => void> = []

  constructor (settings: ClaimSettings, slots: number, opts: DispatcherOptions, leases: Map<string, string>) {
    this.#settings = settings
    this.#slots = slots
    this.#o = opts
    this.#leases = leases
    this.#poll = setInterval(() => this.jobsSent(), opts.pollingSeconds * 1000)
    this.#poll.unref()
  }

  get running (): number { return this.#running }

  reserveNow (): boolean {
    if (this.#stopped || this.#free() <= 0) return false
    this.#reserved++
    return true
  }

  reserve (): Promise<boolean> {
    if (this.reserveNow()) return Promise.resolve(true)
    // Slots a fetch in flight asked for come back when it ends, unless it
    // filled them; a start waiting for them is served before the next fetch.
    if (this.#stopped || this.#fetches === 0 || this.#slots - this.#running - this.#reserved <= 0) return Promise.resolve(false)
    return new Promise(resolve => this.#fetchEnded.push(resolve))
  }

  #free (): number {
    return this.#slots - this.#running - this.#asked - this.#reserved
  }

  runReserved (run: ClaimedRun): void {
    this.#reserved--
    this.#startOrHandBack(run)
  }

  /** Runs `run` in a slot already counted; stopped meanwhile (a start or a hand-off committed as fetching stopped), hands the operation back, due now, for any engine. */
  #startOrHandBack (run: ClaimedRun): void {
    if (!this.#stopped) { this.#start(run); return }
    const { id, lease } = run.operation
    this.#handingBack++
    releaseLease(this.#o.pool, id, lease, new Date(0))
      .catch((err: unknown) =>
        this.#o.log.warn({ err, operationId: id }, 'handing back an operation claimed while stopping failed; it is taken over when its lease lapses'))
      .finally(() => { this.#handingBack--; this.#resolveIdle() })
  }

  unreserve (): void {
    this.#reserved--
    this.#fetchWhileDirty()
  }

  wake (): void {
    this.#dirty = true
    this.#fetchWhileDirty()
  }

  jobsSent (): void {
    this.#jobNotices++
    this.wake()
  }

  wakeIn (ms: number): void {
    if (this.#stopped) return
    const alarm = setTimeout(() => { this.#alarms.delete(alarm); this.wake() }, Math.max(0, ms) + 5)
    alarm.unref()
    this.#alarms.add(alarm)
  }

  stopFetching (): void {
    this.#stopped = true
    clearInterval(this.#poll)
    for (const a of this.#alarms) clearTimeout(a)
    this.#alarms.clear()
  }

  /**
   * Resolves when no run is going, no fetch is in flight and no hand-back is
   * unanswered: a fetch that ends after stop() hands its runs back, and
   * stop() must not return (nor the pool close) before those releases land.
   */
  idle (): Promise<void> {
    if (this.#isIdle()) return Promise.resolve()
    return new Promise(resolve => this.#idle.push(resolve))
  }

  #isIdle (): boolean {
    return this.#running === 0 && this.#fetches === 0 && this.#handingBack === 0
  }

  #resolveIdle (): void {
    if (this.#isIdle()) for (const resolve of this.#idle.splice(0)) resolve()
  }

  /**
   * Starts fetches while work may be waiting and slots are free: up to
   * MAX_FETCHES at once (each claims its share of the free slots), so runs
   * that end one after another do not wait for each other's fetch.
   */
  #fetchWhileDirty (): void {
    while (this.#dirty && !this.#stopped && this.#fetches < MAX_FETCHES) {
      const free = this.#free()
      if (free <= 0) return // a run that ends fetches again
      this.#dirty = false
      void this.#fetch(free)
    }
  }

  async #fetch (free: number): Promise<void> {
    this.#fetches++
    this.#asked += free
    try {
      const notices = this.#jobNotices
      const jobsMaybe = notices > this.#jobNoticesSeen
      const jobsFirst = jobsMaybe && performance.now() - this.#askedJobsAt > this.#o.pollingSeconds * 1000
      const { runs, fetched, askedJobs, jobsExhausted } = await claimRuns(this.#o.pool, this.#o.boss, this.#settings, free, jobsFirst ? 'first' : jobsMaybe ? 'after' : 'none')
      if (askedJobs) this.#askedJobsAt = performance.now()
      // pg-boss had no more: jobs sent since this fetch began are announced by notices it has not counted.
      if (jobsExhausted) this.#jobNoticesSeen = Math.max(this.#jobNoticesSeen, notices)
      // A full batch says more may be waiting.
      if (fetched >= free) this.#dirty = true
      // Stopped while the fetch was in flight: what it claimed goes back, due now, for any engine.
      for (const run of runs) this.#startOrHandBack(run)
    } catch (err) {
      // A deadlock was already waited out (PostgreSQL's deadlock_timeout) and undone: fetch again at once.
      const deadlock = (err as { code?: unknown }).code === DEADLOCK_DETECTED
      this.#o.log.warn({ err, orchestration: this.#settings.name }, deadlock ? 'fetching work deadlocked; trying again now' : 'fetching work failed; trying again shortly')
      if (deadlock) this.#dirty = true
      else this.wakeIn(FETCH_RETRY_MS)
    } finally {
      this.#fetches--
      this.#asked -= free
      for (const resolve of this.#fetchEnded.splice(0)) resolve(this.reserveNow())
      this.#resolveIdle()
    }
    this.#fetchWhileDirty()
  }

  #start (run: ClaimedRun): void {
    const { id, lease } = run.operation
    this.#running++
    this.#leases.set(id, lease)
    this.#o.run(run)
      .catch((err: unknown) => {
        // Nothing left to do here: the lease lapses and a run replays.
        this.#o.log.error({ err, operationId: id }, 'run failed outside the orchestration; it will be taken over when its lease lapses')
        return undefined
      })
      .then(next => {
        this.#running--
        if (this.#leases.get(id) === lease) this.#leases.delete(id)
        // The next operation on the run's key, claimed by its end, takes the slot it left (in the same tick: no fetch can take it first).
        if (next) this.#startOrHandBack(next)
        this.#resolveIdle()
        this.#fetchWhileDirty()
      })
  }
}
