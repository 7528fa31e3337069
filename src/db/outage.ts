// Says plainly when the control plane's database is down, without flooding
// the log: the first failure that means "unreachable" (db/unavailable.ts) is
// logged once, later ones are counted, a reminder follows every
// `reminderMs`, and the recovery is logged once with how long it lasted.
// Recovery is noticed by a light probe (`SELECT 1` through `probe`) every
// `probeMs` while the outage lasts, so it is logged even when nothing else
// touches the database.
import type { Logger } from '../logging.ts'
import { isDatabaseUnavailable } from './unavailable.ts'

export interface OutageLog {
  /**
   * Hands over an error seen anywhere. Returns true when it means the
   * database is unavailable: then it is accounted for here and the caller
   * should not log it itself.
   */
  report (err: unknown): boolean
  /** True while an outage is under way. */
  readonly down: boolean
  /** Wraps a logger so that errors it is given that mean "database unavailable" go to report() instead. */
  filter (log: Logger): Logger
  close (): void
}

export interface OutageOptions {
  log: Logger
  probe: () => Promise<unknown>
  /** Milliseconds between reminders while it lasts. Default 60 000. */
  reminderMs?: number
  /** Milliseconds between recovery probes while it lasts. Default 2 000. */
  probeMs?: number
}

export function createOutageLog (opts: OutageOptions): OutageLog {
  const reminderMs = opts.reminderMs ?? 60_000
  const probeMs = opts.probeMs ?? 2000
  let since: number | null = null
  let suppressed = 0
  let lastReminder = 0
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const reasonOf = (err: unknown): string => (err as Error)?.message ?? String(err)

  function check (): void {
    timer = setTimeout(() => {
      opts.probe().then(() => {
        if (since === null) return
        opts.log.warn({ downSeconds: Math.round((Date.now() - since) / 1000), errors: suppressed }, 'database is available again')
        since = null
        suppressed = 0
      }, (err: unknown) => {
        if (since !== null && Date.now() - lastReminder >= reminderMs) {
          lastReminder = Date.now()
          opts.log.error({ downSeconds: Math.round((Date.now() - since) / 1000), errors: suppressed, reason: reasonOf(err) }, 'database is still unavailable')
        }
        if (!closed) check()
      })
    }, probeMs)
    timer.unref()
  }

  function report (err: unknown): boolean {
    if (!isDatabaseUnavailable(err)) return false
    if (since !== null) {
      suppressed++
      return true
    }
    since = lastReminder = Date.now()
    suppressed = 0
    opts.log.error({ reason: reasonOf(err) }, 'database is unavailable: requests answer 503 and work waits until it is back')
    if (!closed) check()
    return true
  }

  function filter (log: Logger): Logger {
    const pass = (level: 'error' | 'warn' | 'fatal') => (first: unknown, ...rest: unknown[]): void => {
      const err = (first as { err?: unknown } | undefined)?.err ?? first
      if (report(err)) return
      ;(log[level] as (...args: unknown[]) => void)(first, ...rest)
    }
    return {
      get level () { return log.level },
      set level (l: string) { log.level = l },
      fatal: pass('fatal'),
      error: pass('error'),
      warn: pass('warn'),
      info: log.info.bind(log),
      debug: log.debug.bind(log),
      trace: log.trace.bind(log),
      child: bindings => filter(log.child(bindings))
    } as Logger
  }

  return {
    report,
    get down () { return since !== null },
    filter,
    close () { closed = true; clearTimeout(timer) }
  }
}
