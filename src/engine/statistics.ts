// Keeps the planner's view of the engine's tables' sizes near the truth.
//
// The engine's statements are prepared once per connection (named), and
// after five executions PostgreSQL may keep a generic plan for good, costed
// with the table sizes of that moment; only an ANALYZE (or DDL) of a table
// invalidates the plans that read it. A burst of starts grows
// toygres.operations from a few hundred rows to thousands in seconds, while
// autovacuum looks at a database once a minute (autovacuum_naptime): until it
// does, every run write joins its operations with a sequential scan chosen
// when the table was small, and the whole engine slows down as the table
// grows. Measured: bench:engine's queue drain went from 195–232 to 370–377
// orchestrations/s when the table was analyzed right after its starts.
// https://www.postgresql.org/docs/current/sql-prepare.html (generic plans),
// https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS
import type { Queryable } from '../db/queryable.ts'
import type { Logger } from '../logging.ts'
import { analyzeTables, selectStaleTables } from './sql/statistics.ts'

/** A table is analyzed once it is this many times as large as the planner believes... */
const FACTOR = 2
/** ...and larger by at least this many pages (128 kB: small tables plan alike at any size). */
const MIN_PAGES = 16
/** How often a worker looks: a cheap catalog read, frequent enough to catch a burst within a second. */
const CHECK_INTERVAL_MS = 1000

export class PlannerStatistics {
  #db: Queryable
  #log: Logger
  #timer: NodeJS.Timeout | null = null
  #checking: Promise<void> | null = null
  /** ANALYZE statements run, for tests and benchmarks. */
  readonly stats = { analyzed: 0 }

  constructor (db: Queryable, log: Logger) {
    this.#db = db
    this.#log = log
  }

  /** Checks every CHECK_INTERVAL_MS (idempotent). */
  start (): void {
    if (this.#timer) return
    this.#timer = setInterval(() => { void this.check() }, CHECK_INTERVAL_MS)
    this.#timer.unref()
  }

  /** Stops checking; resolves once a check in flight is over. */
  async stop (): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    await this.#checking
  }

  /**
   * Analyzes the engine's tables that outgrew the planner's view (selectStaleTables);
   * one check at a time. A failure is logged, and the next check tries again.
   */
  check (): Promise<void> {
    this.#checking ??= (async () => {
      try {
        const stale = await selectStaleTables(this.#db, FACTOR, MIN_PAGES)
        if (stale.length === 0) return
        await analyzeTables(this.#db, stale)
        this.stats.analyzed++
        this.#log.debug({ tables: stale }, 'analyzed the engine tables that outgrew the planner\'s view')
      } catch (err) {
        this.#log.warn({ err }, 'checking the engine tables\' planner statistics failed; trying again at the next check')
      } finally {
        this.#checking = null
      }
    })()
    return this.#checking
  }
}
