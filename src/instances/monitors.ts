// Starting and stopping health monitors: one health-check operation per
// running instance. Never two: a start locks the instance row and reuses a
// live monitor (or adopts a live one the row lost track of), and its
// idempotency key names the monitor it replaces, so two processes replacing
// the same dead monitor get one. No monitor is lost: housekeeping starts one
// for every running instance whose monitor is missing or finished.
import type pg from 'pg'
import { lockRunningInstance, setHealthOperation } from '../db/instances.ts'
import { inTransaction } from '../db/queryable.ts'
import type { Engine, OrchestrationHandle } from '../engine/index.ts'
import type { HealthCheckInput, HealthCheckOutput } from '../orchestrations/types.ts'

export interface MonitorDeps {
  pool: pg.Pool
  engine: Engine
  healthCheck: OrchestrationHandle<HealthCheckInput, HealthCheckOutput>
  /** TOYGRES_HEALTH_AUTO_RESTART, fixed into each monitor's input. */
  autoRestart: boolean
}

/** Not the instance name: create/delete serialise on the name and must never wait behind a monitor. */
export const monitorKey = (instanceId: string): string => `health:${instanceId}`

/**
 * Starts the instance's monitor unless a live one exists; resolves with its
 * operation id, or null when the instance is not running. `firstDueAt`
 * (epoch ms, database clock) delays the first check, to spread a fleet.
 */
export async function startMonitor (deps: MonitorDeps, instanceId: string, firstDueAt?: number): Promise<string | null> {
  return inTransaction(deps.pool, async client => {
    const row = await lockRunningInstance(client, instanceId)
    if (!row) return null
    const live = await deps.engine.liveOnKey(monitorKey(instanceId), deps.healthCheck, client)
    if (live.some(op => op.id === row.health_operation_id)) return row.health_operation_id
    // A live monitor the row does not point at (its record was lost): adopt it, never add a second.
    if (live[0]) {
      await setHealthOperation(client, instanceId, live[0].id)
      return live[0].id
    }
    const input: HealthCheckInput = {
      instance_id: instanceId, name: row.name, namespace: row.namespace, auto_restart: deps.autoRestart, ...(firstDueAt === undefined ? {} : { due_at: firstDueAt })
    }
    let replaces = row.health_operation_id
    // At most a couple of rounds: a key can only be held by an older, finished monitor.
    for (let round = 0; round < 3; round++) {
      const { operation, created } = await deps.engine.start(deps.healthCheck, input, {
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
  for (const op of await deps.engine.liveOnKey(monitorKey(instanceId), deps.healthCheck)) {
    await deps.engine.cancel(op.id, { reason: 'the instance is being deleted' })
  }
}
