// Group commit for queued starts: start() calls in autocommit, without an
// idempotency key, that no slot of this process takes. Starts that arrive
// while a statement is in flight go together in the next one
// (insertDueOperations), so a storm of starts costs one commit per round
// instead of one each, and one wake-up notice per orchestration. A lone
// start goes out at once, so a quiet engine pays no extra latency.
import type { Queryable } from '../db/queryable.ts'
import type { Operation } from './types.ts'
import { insertDueOperations, selectOperation } from './sql/operations.ts'

/** Starts per statement at most (unnest arrays stay small; one slow batch delays few callers). */
const MAX_BATCH = 256

/** A queued start's row, as insertDueOperations takes it. */
export interface QueuedStart { id: string, name: string, key: string, input: unknown, trace: boolean }

interface Waiting { start: QueuedStart, resolve: (op: Operation) => void, reject: (err: unknown) => void }

export class StartWriter {
  #db: Queryable
  #waiting: Waiting[] = []
  #sending = false
  /** Statements sent and starts they carried, for tests and the benchmarks' group sizes. */
  readonly stats = { statements: 0, starts: 0 }

  constructor (db: Queryable) {
    this.#db = db
  }

  /** Resolves with the operation's row once it committed; rejects when PostgreSQL refused it. */
  insert (start: QueuedStart): Promise<Operation> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ start, resolve, reject })
      this.#next()
    })
  }

  /** One statement in flight at a time: what arrives meanwhile joins the next one, so batches grow with load. */
  #next (): void {
    if (this.#sending || this.#waiting.length === 0) return
    this.#sending = true
    void this.#send(this.#waiting.splice(0, MAX_BATCH)).finally(() => {
      this.#sending = false
      this.#next()
    })
  }

  /**
   * A shared statement that fails commits nothing, and each start is tried
   * alone, in order, so one row PostgreSQL refuses fails only its own caller. A start
   * tried alone whose id is taken was committed by the shared statement
   * (the ids are ours and random): its reply was lost, not its row.
   */
  async #send (batch: Waiting[]): Promise<void> {
    this.stats.statements++
    this.stats.starts += batch.length
    try {
      const rows = await insertDueOperations(this.#db, batch.map(w => w.start))
      batch.forEach((w, i) => w.resolve(rows[i]!))
      return
    } catch (err) {
      if (batch.length === 1) { batch[0]!.reject(err); return }
    }
    // One after another: starts on one key keep their order.
    for (const w of batch) {
      try {
        const [row] = await insertDueOperations(this.#db, [w.start])
        w.resolve(row!)
      } catch (alone) {
        const committed = isUniqueViolation(alone) ? await selectOperation(this.#db, w.start.id).catch(() => null) : null
        if (committed) w.resolve(committed)
        else w.reject(alone)
      }
    }
  }
}

/** SQLSTATE 23505: the row's id is already in the table. */
function isUniqueViolation (err: unknown): boolean {
  return (err as { code?: unknown }).code === '23505'
}
