// Starting, stopping and reconciling health monitors. No monitor can be lost:
// the reconciler starts one for every running instance whose recorded monitor
// is missing or finished (crash, failure, a start that never happened), at
// boot and on every interval. Never two: a start locks the instance row and
// reuses a live monitor, and its idempotency key names the monitor it
// replaces, so two processes replacing the same dead monitor get one.
import type pg from 'pg'
import type { Logger } from 'pino'
import type { Engine } from '../engine/index.ts'
import { inTransaction } from '../db/queryable.ts'
import { pruneIdempotencyKeys } from '../instances/idempotency.ts'
import { setHealthOperation } from '../instances/store.ts'
import { orchestrations } from '../orchestrations/names.ts'
import type { HealthCheckLoopInput } from './health-check.ts'
import { findUnmonitored, liveMonitorIds, lockRunningInstance, markStale, pruneHealthChecks } from './store.ts'

export interface MonitorDeps {
  pool: pg.Pool
  engine: Engine
  log: Logger
  intervalMs: number
  timeoutMs: number
  retentionHours: number
}

/** Not the instance name: create/delete serialise on the name and must never wait behind a monitor. */
export const monitorKey = (instanceId: string): string => `health:${instanceId}`

/**
 * Starts the instance's monitor unless a live one exists; returns its
 * operation id, or null when the instance is not running. `firstDueAt`
 * delays the first probe (the reconciler spreads a fleet over an interval).
 */
export async function startMonitor (deps: MonitorDeps, instanceId: string, firstDueAt?: number): Promise<string | null> {
  return inTransaction(deps.pool, async client => {
    const row = await lockRunningInstance(client, instanceId)
    if (!row) return null
    if (row.live && row.health_operation_id) return row.health_operation_id
    // A live monitor the row does not point at (its record was lost): adopt it, never add a second.
    const [live] = await liveMonitorIds(client, monitorKey(instanceId), orchestrations.HEALTH_CHECK)
    if (live) {
      await setHealthOperation(client, instanceId, live)
      return live
    }
    const input: HealthCheckLoopInput = {
      instance_id: instanceId, name: row.name, namespace: row.namespace, ...(firstDueAt === undefined ? {} : { due_at: firstDueAt })
    }
    let replaces = row.health_operation_id
    // At most a couple of rounds: a key can only be held by an older, finished monitor.
    for (let round = 0; round < 3; round++) {
      const { operation, created } = await deps.engine.start(orchestrations.HEALTH_CHECK, input, {
        key: monitorKey(instanceId),
        idempotencyKey: `${monitorKey(instanceId)}:after:${replaces ?? 'none'}`,
        db: client
      })
      if (created || operation.status === 'pending' || operation.status === 'running') {
        await setHealthOperation(client, instanceId, operation.id)
        return operation.id
      }
      replaces = operation.id
    }
    throw new Error(`could not start a health monitor for instance ${instanceId}`)
  })
}

/** Cancels every live monitor of the instance (normally one). */
export async function stopMonitor (deps: MonitorDeps, instanceId: string): Promise<void> {
  for (const id of await liveMonitorIds(deps.pool, monitorKey(instanceId), orchestrations.HEALTH_CHECK)) {
    await deps.engine.cancel(id, { reason: 'the instance is being deleted' })
  }
}

const RECONCILE_LOCK = 'toygres.health.reconcile'
const BATCH = 500
const START_PARALLELISM = 4

export interface ReconcileResult { ran: boolean, started: number, stale: number, prunedChecks: number, prunedKeys: number }

/**
 * One pass; cheap when nothing is missing (one join). Processes that run it
 * together take turns on an advisory lock: one does the work, the others skip.
 */
export async function reconcile (deps: MonitorDeps): Promise<ReconcileResult> {
  const lock = await deps.pool.connect()
  const result: ReconcileResult = { ran: false, started: 0, stale: 0, prunedChecks: 0, prunedKeys: 0 }
  try {
    const { rows } = await lock.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got', [RECONCILE_LOCK])
    if (!rows[0]!.got) return result
    try {
      result.ran = true
      for (;;) {
        const missing = await findUnmonitored(deps.pool, BATCH)
        let progress = 0
        // A few at a time (each is its own short transaction), not the whole pool.
        for (let i = 0; i < missing.length; i += START_PARALLELISM) {
          const started = await Promise.all(missing.slice(i, i + START_PARALLELISM).map(m =>
            // Spread first probes over one interval, so a fleet resumed at once does not probe at once.
            startMonitor(deps, m.id, Date.now() + Math.floor(Math.random() * deps.intervalMs))))
          progress += started.filter(Boolean).length
        }
        result.started += progress
        if (missing.length < BATCH || progress === 0) break
      }
      // Three intervals without a check (plus the probe timeout): the verdict is no longer known.
      result.stale = await markStale(deps.pool, (3 * deps.intervalMs + deps.timeoutMs) / 1000)
      result.prunedChecks = await pruneHealthChecks(deps.pool, deps.retentionHours)
      result.prunedKeys = await pruneIdempotencyKeys(deps.pool, 24)
    } finally {
      await lock.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [RECONCILE_LOCK])
    }
  } finally {
    lock.release()
  }
  if (result.started > 0) deps.log.info({ started: result.started }, 'started missing health monitors')
  if (result.stale > 0) deps.log.warn({ instances: result.stale }, 'health unknown: no recent check')
  return result
}
