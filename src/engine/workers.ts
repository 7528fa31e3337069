// The pg-boss workers of one engine: one worker per slot per queue, the runs
// in flight (for a graceful stop), and local alarms for durable timers.
import type { PgBoss } from 'pg-boss'
import type { Logger } from '../logging.ts'
import type { JobData } from './tx.ts'

export interface WorkersOptions {
  boss: PgBoss
  log: Logger
  concurrency: number
  pollingSeconds: number
  run: (job: { id: string, retryCount: number, data: JobData }) => Promise<void>
}

export class Workers {
  #o: WorkersOptions
  #workers: Array<{ queue: string, id: string }> = []
  #running = new Set<Promise<void>>()
  #timers = new Set<NodeJS.Timeout>()
  #stopped = false

  constructor (opts: WorkersOptions) { this.#o = opts }

  get busy (): boolean { return this.#running.size > 0 }

  async start (queue: string): Promise<void> {
    if (this.#stopped || this.#workers.some(w => w.queue === queue)) return
    // One pg-boss worker per slot, each with its own id, so a worker that
    // just finished a job can be told to fetch again at once: pg-boss would
    // otherwise wait out its polling interval after every job (batchSize 1
    // never bursts), capping a slot at one operation per interval.
    for (let slot = 0; slot < this.#o.concurrency; slot++) {
      let self: string | undefined
      const id = await this.#o.boss.work<JobData>(queue, {
        pollingIntervalSeconds: this.#o.pollingSeconds,
        notifyPollingIntervalSeconds: this.#o.pollingSeconds
      }, async jobs => {
        for (const job of jobs) await this.#track(this.#o.run(job))
        if (self && !this.#stopped) this.#o.boss.notifyWorker(self)
      })
      self = id
      this.#workers.push({ queue, id })
    }
  }

  /** A local alarm in `ms` milliseconds, so a durable timer fires on time, not at the next poll. */
  wakeIn (queue: string, ms: number): void {
    if (this.#stopped) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      for (const w of this.#workers) if (w.queue === queue) this.#o.boss.notifyWorker(w.id)
    }, Math.max(0, ms) + 5)
    timer.unref()
    this.#timers.add(timer)
  }

  /** Stops fetching; resolves once runs are done or graceMs passed. */
  async stopFetching (graceMs: number): Promise<void> {
    this.#stopped = true
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    await Promise.all(this.#workers.map(w => this.#o.boss.offWork(w.queue, { id: w.id, wait: false })))
    await this.settled(graceMs)
  }

  /** Waits for pg-boss to settle the last jobs, unless a run is stuck. */
  async drain (): Promise<void> {
    if (this.busy) return
    await Promise.all(this.#workers.map(w => this.#o.boss.offWork(w.queue, { id: w.id, wait: true })))
  }

  async settled (ms: number): Promise<void> {
    if (this.#running.size === 0) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise(resolve => { timer = setTimeout(resolve, ms) })
    ])
    clearTimeout(timer)
  }

  async #track (run: Promise<void>): Promise<void> {
    this.#running.add(run)
    try {
      await run
    } catch (err) {
      // The job fails and pg-boss retries it; the retry replays from checkpoints.
      this.#o.log.error({ err }, 'run failed outside the orchestration; its job will be retried')
      throw err
    } finally {
      this.#running.delete(run)
    }
  }
}
