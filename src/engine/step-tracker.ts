// Makes a long step visible while it runs, without costing fast steps a
// write: a step still running after VISIBLE_AFTER_MS gets a `running` row
// (attempt, start time, latest progress reason), later reasons are written
// at most once per PROGRESS_INTERVAL_MS, and a retry writes its reason at
// once. A step that finishes sooner is written once, by its checkpoint.
// Writes are chained, so the final checkpoint always lands after them.
import type { Logger } from '../logging.ts'
import type { StoredError } from './errors.ts'
import type { CheckpointRow } from './sql/steps.ts'

/** Milliseconds a step runs before it shows as `running` in the timeline. */
export const VISIBLE_AFTER_MS = 250
/** Milliseconds between two writes of a changing progress reason. */
export const PROGRESS_INTERVAL_MS = 1000

export interface StepTrackerOptions {
  /** A fenced checkpoint write; never rejects (the context halts the run instead). */
  write: (row: CheckpointRow) => Promise<void>
  row: { position: number, name: string, startedAt: Date }
  /** Already in the timeline (a replayed running or retrying step). */
  visible: boolean
  log: Logger
}

export class StepTracker {
  attempt = 1
  #o: StepTrackerOptions
  #visible: boolean
  #reason: string | null = null
  #written: string | null = null
  #error: StoredError | null = null
  #chain: Promise<void> = Promise.resolve()
  #timer: NodeJS.Timeout | undefined
  #lastWriteAt = 0
  #closed = false

  constructor (opts: StepTrackerOptions) {
    this.#o = opts
    this.#visible = opts.visible
    if (!this.#visible) this.#timer = setTimeout(() => this.#show(), VISIBLE_AFTER_MS)
  }

  /** The activity's latest "waiting for" reason. */
  progress (reason: string): void {
    if (this.#closed || reason === this.#reason) return
    this.#reason = reason
    if (!this.#visible || this.#timer) return // written when it shows, or by the pending write
    const wait = Math.max(0, this.#lastWriteAt + PROGRESS_INTERVAL_MS - Date.now())
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#flush() }, wait)
  }

  /** An attempt failed and `next` will follow: show it now, with the reason. */
  async retrying (next: number, error: StoredError): Promise<void> {
    this.attempt = next
    this.#error = error
    this.#visible = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#flush(true)
    await this.#chain
  }

  /** The attempt settled: no more writes of its own; resolves once those in flight landed. */
  async settle (): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#chain
  }

  close (): void {
    this.#closed = true
    clearTimeout(this.#timer)
  }

  #show (): void {
    this.#timer = undefined
    if (this.#closed) return
    this.#visible = true
    this.#flush(true)
  }

  #flush (force = false): void {
    if (this.#closed || (!force && this.#reason === this.#written)) return
    const row: CheckpointRow = {
      position: this.#o.row.position,
      name: this.#o.row.name,
      status: 'running',
      attempts: this.attempt,
      startedAt: this.#o.row.startedAt,
      finishedAt: null,
      output: undefined,
      error: this.#error,
      progress: this.#reason
    }
    this.#written = this.#reason
    this.#lastWriteAt = Date.now()
    this.#chain = this.#chain.then(() => this.#o.write(row))
  }
}
