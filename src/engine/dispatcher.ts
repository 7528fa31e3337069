// Hands an engine's pg-boss jobs to its runs: one fetcher per queue, and a
// number of slots per queue. A fetch takes as many jobs as there are free
// slots and claims their operations in the same transaction (claim.ts), so
// a woken queue costs one transaction whatever the batch size, and an idle
// queue woken by one NOTIFY makes one fetch, not one per slot. The fetcher
// keeps the jobs it holds alive (pg-boss `touch`, one statement per queue),
// and fails a job whose run broke outside the orchestration so pg-boss
// retries it.
import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import type { Logger } from '../logging.ts'
import { claimJobs, type ClaimedRun, type FetchedJob } from './claim.ts'

export interface DispatcherOptions {
  pool: pg.Pool
  boss: PgBoss
  log: Logger
  /** Seconds between backstop fetches (NOTIFY missed, or a timer set by another process). */
  pollingSeconds: number
  /** pg-boss heartbeat of the queues: held jobs are touched twice per period. */
  heartbeatSeconds: number
  run: (run: ClaimedRun) => Promise<void>
}

/** Milliseconds before a failed fetch (database unreachable, deadlock) is tried again. */
const FETCH_RETRY_MS = 1000

export class Dispatcher {
  #o: DispatcherOptions
  #queues = new Map<string, QueueFetcher>()
  #stopped = false

  constructor (opts: DispatcherOptions) { this.#o = opts }

  /** Runs in flight, over every queue. */
  get busy (): boolean { return [...this.#queues.values()].some(q => q.running > 0) }

  /** Starts fetching for `queue` with `slots` runs at once (idempotent). */
  start (queue: string, slots: number): void {
    if (this.#stopped || this.#queues.has(queue) || slots <= 0) return
    const fetcher = new QueueFetcher(queue, slots, this.#o)
    this.#queues.set(queue, fetcher)
    fetcher.wake()
  }

  /** New work may be waiting on `queue` (a NOTIFY, a start in this process). */
  wake (queue: string): void {
    this.#queues.get(queue)?.wake()
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
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.#queues.values()].map(q => q.idle())),
      new Promise(resolve => { timer = setTimeout(resolve, ms) })
    ])
    clearTimeout(timer)
  }

  /** Stops the heartbeats: a run still going is left to pg-boss's heartbeat expiry. */
  close (): void {
    for (const q of this.#queues.values()) q.close()
  }
}

class QueueFetcher {
  readonly #queue: string
  readonly #slots: number
  readonly #o: DispatcherOptions
  /** Jobs held by runs of this process, by job id. */
  #held = new Map<string, FetchedJob>()
  #fetching = false
  /** Work may be waiting: set by wakes, and by a fetch that filled every free slot. */
  #dirty = false
  #stopped = false
  #alarms = new Set<NodeJS.Timeout>()
  #poll: NodeJS.Timeout
  #heartbeat: NodeJS.Timeout
  #idle: Array<() => void> = []

  constructor (queue: string, slots: number, opts: DispatcherOptions) {
    this.#queue = queue
    this.#slots = slots
    this.#o = opts
    this.#poll = setInterval(() => this.wake(), opts.pollingSeconds * 1000)
    this.#poll.unref()
    this.#heartbeat = setInterval(() => this.#touch(), opts.heartbeatSeconds * 500)
    this.#heartbeat.unref()
  }

  get running (): number { return this.#held.size }

  wake (): void {
    this.#dirty = true
    if (!this.#fetching && !this.#stopped) void this.#fetchWhileDirty()
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

  idle (): Promise<void> {
    if (this.#held.size === 0) return Promise.resolve()
    return new Promise(resolve => this.#idle.push(resolve))
  }

  close (): void {
    this.stopFetching()
    clearInterval(this.#heartbeat)
  }

  async #fetchWhileDirty (): Promise<void> {
    this.#fetching = true
    try {
      while (this.#dirty && !this.#stopped) {
        const free = this.#slots - this.#held.size
        if (free <= 0) return // a run that ends fetches again
        this.#dirty = false
        let runs: ClaimedRun[]
        let fetched: number
        try {
          ({ runs, fetched } = await claimJobs(this.#o.pool, this.#o.boss, this.#queue, free))
        } catch (err) {
          this.#o.log.warn({ err, queue: this.#queue }, 'fetching jobs failed; trying again shortly')
          this.wakeIn(FETCH_RETRY_MS)
          return
        }
        // A full batch says more may be waiting.
        if (fetched === free) this.#dirty = true
        for (const run of runs) this.#start(run)
      }
    } finally {
      this.#fetching = false
    }
  }

  #start (run: ClaimedRun): void {
    this.#held.set(run.job.id, run.job)
    this.#o.run(run)
      .catch(async (err: unknown) => {
        // The run broke outside the orchestration (its database writes
        // failed): fail the job so pg-boss retries it; the retry replays.
        this.#o.log.error({ err, operationId: run.operation.id }, 'run failed outside the orchestration; its job will be retried')
        const message = (err as Error)?.message ?? String(err)
        await this.#o.boss.fail(this.#queue, run.job, { message }).catch((failErr: unknown) =>
          this.#o.log.warn({ err: failErr }, 'could not fail the job; its heartbeat expiry retries it'))
      })
      .finally(() => {
        this.#held.delete(run.job.id)
        if (this.#held.size === 0) for (const resolve of this.#idle.splice(0)) resolve()
        if (this.#dirty && !this.#fetching && !this.#stopped) void this.#fetchWhileDirty()
      })
  }

  #touch (): void {
    if (this.#held.size === 0) return
    this.#o.boss.touch(this.#queue, [...this.#held.values()]).catch((err: unknown) =>
      this.#o.log.warn({ err, queue: this.#queue }, 'heartbeat of held jobs failed'))
  }
}
