// Housekeeping: one pass, at boot and every interval, in worker processes.
// It starts the health monitors that are missing (crash, failure, a start
// that never happened), marks verdicts stale when checks stopped, and
// prunes what has outlived its retention: health checks, idempotency keys,
// finished operations. Processes that run it together take turns on an
// advisory lock: one does the work, the others skip.
import type { Logger } from '../logging.ts'
import { listRunningMonitors, markStale, pruneHealthChecks } from '../db/health-checks.ts'
import { markDeleteFailed, transition } from '../db/instance-changes.ts'
import { listInTransition, type InstanceState } from '../db/instances.ts'
import { pruneIdempotencyKeys } from '../db/idempotency-keys.ts'
import { pruneRemovedInstanceHistory } from '../db/instance-events.ts'
import { startMonitor, type MonitorDeps } from './monitors.ts'

export interface HousekeepingDeps extends MonitorDeps {
  log: Logger
  /** Health check interval, milliseconds. */
  intervalMs: number
  /** One check's timeout, milliseconds. */
  timeoutMs: number
  retentionHours: number
  /** Finished operations (and their steps) are kept this long. */
  operationRetentionHours: number
}

export interface HousekeepingResult {
  ran: boolean
  /** Operations nothing would have run again: failed (their job was given up on) or woken (no job left). */
  abandoned: number
  /** Instances left in a transitional state by an operation that ended without moving them on. */
  settled: number
  started: number
  stale: number
  prunedChecks: number
  prunedKeys: number
  prunedOperations: number
  /** Events of instances removed longer ago than the operation retention. */
  prunedEvents: number
}

const LOCK = 'toygres.housekeeping'
const BATCH = 500
const START_PARALLELISM = 4
const IDEMPOTENCY_KEY_HOURS = 24

export async function housekeeping (deps: HousekeepingDeps): Promise<HousekeepingResult> {
  const lock = await deps.pool.connect()
  const result: HousekeepingResult = { ran: false, abandoned: 0, settled: 0, started: 0, stale: 0, prunedChecks: 0, prunedKeys: 0, prunedOperations: 0, prunedEvents: 0 }
  try {
    const { rows } = await lock.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got', [LOCK])
    if (!rows[0]!.got) return result
    try {
      result.ran = true
      const swept = await deps.engine.sweepAbandoned()
      result.abandoned = swept.failed + swept.woken
      result.settled = await settleStranded(deps)
      result.started = await startMissingMonitors(deps)
      // Three intervals without a check (plus the check's timeout): the verdict is no longer known.
      result.stale = await markStale(deps.pool, (3 * deps.intervalMs + deps.timeoutMs) / 1000)
      result.prunedChecks = await pruneHealthChecks(deps.pool, deps.retentionHours)
      result.prunedKeys = await pruneIdempotencyKeys(deps.pool, IDEMPOTENCY_KEY_HOURS)
      result.prunedOperations = await deps.engine.pruneFinished(deps.operationRetentionHours * 3600)
      result.prunedEvents = await pruneRemovedInstanceHistory(deps.pool, deps.operationRetentionHours)
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [LOCK])
    }
  } finally {
    lock.release()
  }
  if (result.started > 0) deps.log.info({ started: result.started }, 'started missing health monitors')
  if (result.stale > 0) deps.log.warn({ instances: result.stale }, 'health unknown: no recent check')
  return result
}

/** Running instances whose recorded monitor is missing or finished get one, a few at a time. */
async function startMissingMonitors (deps: HousekeepingDeps): Promise<number> {
  let started = 0
  let after: string | null = null
  for (;;) {
    const page = await listRunningMonitors(deps.pool, after, BATCH)
    if (page.length === 0) return started
    after = page[page.length - 1]!.id
    const live = await deps.engine.liveAmong(page.map(r => r.health_operation_id).filter((id): id is string => id !== null))
    const missing = page.filter(r => r.health_operation_id === null || !live.has(r.health_operation_id))
    for (let i = 0; i < missing.length; i += START_PARALLELISM) {
      const results = await Promise.all(missing.slice(i, i + START_PARALLELISM).map(m =>
        // Spread first checks over one interval, so a fleet resumed at once does not check at once.
        startMonitor(deps, m.id, deps.engine.now() + Math.floor(Math.random() * deps.intervalMs))))
      started += results.filter(Boolean).length
    }
  }
}

/** Where an instance goes when the operation that should have moved it on ended without doing so. */
const STRANDED: Partial<Record<InstanceState, InstanceState>> = {
  creating: 'failed', restarting: 'running', updating: 'running', stopping: 'running', starting: 'stopped'
}

/**
 * Every terminal state lets the user act again: an instance whose current
 * operation ended (failed, say, because its worker's job was given up on)
 * while it was still creating, deleting, restarting... moves to the state
 * the operation's own failure path would have left, with why.
 */
async function settleStranded (deps: HousekeepingDeps): Promise<number> {
  const candidates = await listInTransition(deps.pool, BATCH)
  const ended = new Map((await deps.engine.getOperations(candidates.map(c => c.operation_id)))
    .filter(o => o.status === 'failed' || o.status === 'cancelled' || o.status === 'succeeded').map(o => [o.id, o]))
  let settled = 0
  for (const c of candidates) {
    const op = ended.get(c.operation_id)
    if (!op) continue
    const error = { step: op.error?.step ?? null, message: `its ${op.name.split('::').pop()} operation ended (${op.status}${op.error ? `: ${op.error.message}` : ''}) without finishing` }
    const moved = c.state === 'deleting'
      ? await markDeleteFailed(deps.pool, c.id, error)
      : (await transition(deps.pool, c.id, [c.state], STRANDED[c.state]!, { error })).moved
    if (moved) {
      settled++
      deps.log.warn({ instanceId: c.id, from: c.state, operation: op.id }, 'instance left in transition by an ended operation: settled')
    }
  }
  return settled
}
