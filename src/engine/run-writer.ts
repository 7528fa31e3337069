// Group commit for runs' writes: runs that write (checkpoints, a timer, the
// operation's end) while another write is in flight are written together in
// the next statement (writeRuns), so N concurrent runs cost about one commit
// per round instead of N. A lone
// write goes out at once, so an idle engine pays no extra latency. Each
// operation stays fenced by its own lease inside the shared statement. If a
// shared statement fails, each write is tried alone, so one bad row (say, a
// step output PostgreSQL's jsonb refuses) fails only its own run.
import type { Queryable } from '../db/queryable.ts'
import type { Logger } from '../logging.ts'
import { wakeNextOnKeys, writeRuns, type RunWrite, type RunWriteResult } from './sql/run-writes.ts'

/** Writes per statement at most (unnest arrays stay small; one slow batch delays few runs). */
const MAX_BATCH = 256
/**
 * Statements in flight at once. One: writes that arrive while a statement
 * runs join the next one, so batches grow with load. Two measured slower
 * (bench:engine 265/s against 337/s): more, smaller statements contend
 * for the same rows' locks and WAL flushes.
 */
const MAX_IN_FLIGHT = 1

interface Waiting { write: RunWrite, resolve: (r: RunWriteResult) => void, reject: (err: unknown) => void }

export class RunWriter {
  #db: Queryable
  #log: Logger
  #queue: Waiting[] = []
  #inFlight = 0
  #drained: Array<() => void> = []
  /** Keys freed with no pending operation seen to wake, for a later snapshot to look again (writeRuns). */
  #freed: string[] = []
  /** wakeNextOnKeys statements in flight. */
  #waking = 0
  /** Statements sent and writes carried, for the benchmarks' group sizes. */
  readonly stats = { statements: 0, writes: 0 }

  constructor (db: Queryable, log: Logger) {
    this.#db = db
    this.#log = log
  }

  /** Resolves with the operation's outcome once its rows committed (or were refused: `held: false`). */
  write (write: RunWrite): Promise<RunWriteResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ write, resolve, reject })
      this.#pump()
    })
  }

  /**
   * Looks at `keys` again, beside the writes: wakes the oldest pending
   * operation on each that is free (wakeNextOnKeys), for a caller whose own
   * statement freed them and could not see every operation waiting (a
   * cancel, once it commits). drained() waits for it too.
   */
  lookAgain (keys: string[]): void {
    this.#freed.push(...keys)
    this.#pump()
  }

  /** Resolves once nothing is queued or in flight (the wake-ups that follow a batch included). */
  async drained (): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight > 0 || this.#waking > 0) await new Promise<void>(resolve => this.#drained.push(resolve))
  }

  /**
   * Sends what waits, up to MAX_IN_FLIGHT statements at once. Keys the last
   * statement freed that need a second look (writeRuns' unwokenKeys: rare,
   * a claim was refused on them) go at once in statements of their own,
   * beside the writes: a second look may wait for a row, and must not hold
   * a batch's locks while it does.
   */
  #pump (): void {
    while (this.#queue.length > 0 && this.#inFlight < MAX_IN_FLIGHT) {
      const batch = this.#queue.splice(0, MAX_BATCH)
      this.#inFlight++
      void this.#send(batch).finally(() => {
        this.#inFlight--
        this.#pump()
        this.#settle()
      })
    }
    if (this.#freed.length > 0) {
      const keys = this.#freed.splice(0)
      this.#waking++
      void this.#wake(keys).finally(() => {
        this.#waking--
        this.#settle()
      })
    }
  }

  #settle (): void {
    if (this.#inFlight === 0 && this.#waking === 0 && this.#queue.length === 0) for (const resolve of this.#drained.splice(0)) resolve()
  }

  async #send (batch: Waiting[]): Promise<void> {
    this.stats.statements++
    this.stats.writes += batch.length
    try {
      const { results, unwokenKeys } = await writeRuns(this.#db, batch.map(w => w.write))
      batch.forEach((w, i) => w.resolve(results[i]!))
      this.#freed.push(...unwokenKeys)
      return
    } catch (err) {
      if (batch.length === 1) { batch[0]!.reject(err); return }
    }
    await Promise.all(batch.map(async w => {
      try {
        const { results, unwokenKeys } = await writeRuns(this.#db, [w.write])
        w.resolve(results[0]!)
        this.#freed.push(...unwokenKeys)
      } catch (alone) {
        w.reject(alone)
      }
    }))
  }

  async #wake (keys: string[]): Promise<void> {
    await wakeNextOnKeys(this.#db, keys).catch((err: unknown) =>
      this.#log.warn({ err, keys }, 'waking the next operations on freed keys failed; the abandoned-operation sweep wakes them'))
  }
}
