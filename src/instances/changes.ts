// Starting day-2 changes (restart, stop, start, reset-password, PATCH):
// each is a durable operation on the instance's key, so changes run one at
// a time in the order they were asked; a request behind another answers 202
// and says which operation it waits for. Each check and start happens in
// one transaction with the instance row locked.
import type pg from 'pg'
import { setDeletionProtection, setPendingPassword } from '../db/instance-changes.ts'
import { linkOperation, type OperationKind } from '../db/instance-events.ts'
import { findInstanceByName, setInstanceOperation, type InstanceRow, type InstanceState } from '../db/instances.ts'
import { inTransaction } from '../db/queryable.ts'
import type { Operation, OrchestrationHandle } from '../engine/index.ts'
import { ToygresError } from '../errors.ts'
import type { InstanceChangeInput } from '../orchestrations/types.ts'
import { generatePassword } from '../secrets.ts'
import type { InstanceServiceDeps } from './service.ts'

export interface ChangeResult {
  instance: InstanceRow
  operation: Operation
  /** The operation this one waits for (the one holding the instance now), or null when it runs at once. */
  queued_behind: string | null
}

/** Where a change cannot start at all, whatever is queued before it. */
const GONE_STATES: InstanceState[] = ['failed', 'deleting', 'delete_failed']

interface ChangeSpec<I> {
  kind: OperationKind
  handle: OrchestrationHandle<I, unknown>
  /** The verb, for messages: "restart". */
  verb: string
  input: (row: InstanceRow, base: InstanceChangeInput) => I
  /** Refuses what cannot succeed even after what is queued; runs with the row locked. */
  check?: (row: InstanceRow, queued: boolean) => void
  /** More writes in the same transaction (e.g. the pending password). */
  before?: (client: pg.PoolClient, row: InstanceRow) => Promise<void>
}

export async function startChange<I> (deps: InstanceServiceDeps, name: string, spec: ChangeSpec<I>): Promise<ChangeResult> {
  return inTransaction(deps.pool, async client => {
    const row = await findInstanceByName(client, name, true)
    if (!row) throw new ToygresError('not-found', `no instance named "${name}"`)
    if (GONE_STATES.includes(row.state)) {
      throw new ToygresError('conflict', `cannot ${spec.verb} "${name}": it is ${row.state.replace('_', ' ')}${row.state === 'failed' ? ' (its create failed): delete it and create it again' : ''}`)
    }
    const live = await deps.engine.liveOnKey(row.name, undefined, client)
    spec.check?.(row, live.length > 0)
    await spec.before?.(client, row)
    const base: InstanceChangeInput = { instance_id: row.id, name: row.name, namespace: row.namespace, timeouts: deps.timeouts }
    const { operation } = await deps.engine.start(spec.handle, spec.input(row, base), { key: row.name, db: client, trace: true })
    await linkOperation(client, row.id, operation.id, spec.kind)
    await setInstanceOperation(client, row.id, operation.id)
    return { instance: { ...row, operation_id: operation.id }, operation: operation as Operation, queued_behind: live[0]?.id ?? null }
  })
}

const requireNotStopped = (verb: string) => (row: InstanceRow, queued: boolean): void => {
  if (row.state === 'stopped' && !queued) throw new ToygresError('conflict', `cannot ${verb} "${row.name}": it is stopped; start it first (POST /instances/${row.name}/start)`)
}

export const restart = (deps: InstanceServiceDeps, name: string): Promise<ChangeResult> =>
  startChange(deps, name, { kind: 'restart', verb: 'restart', handle: deps.orchestrations.restartInstance, input: (_r, base) => base, check: requireNotStopped('restart') })

export const stop = (deps: InstanceServiceDeps, name: string): Promise<ChangeResult> =>
  startChange(deps, name, {
    kind: 'stop',
    verb: 'stop',
    handle: deps.orchestrations.stopInstance,
    input: (_r, base) => base,
    check: (row, queued) => { if (row.state === 'stopped' && !queued) throw new ToygresError('conflict', `"${row.name}" is already stopped`) }
  })

export const start = (deps: InstanceServiceDeps, name: string): Promise<ChangeResult> =>
  startChange(deps, name, {
    kind: 'start',
    verb: 'start',
    handle: deps.orchestrations.startInstance,
    input: (_r, base) => base,
    check: (row, queued) => { if (row.state === 'running' && !queued) throw new ToygresError('conflict', `"${row.name}" is already running`) }
  })

export interface PasswordResult extends ChangeResult {
  /** The new password: shown this once. */
  password: string
}

/** A new password (given, or generated), sealed as the instance's pending password in the request's transaction. */
export async function resetPassword (deps: InstanceServiceDeps, name: string, given?: string): Promise<PasswordResult> {
  const password = given ?? generatePassword()
  const result = await startChange(deps, name, {
    kind: 'reset-password',
    verb: 'reset the password of',
    handle: deps.orchestrations.resetPassword,
    input: (_r, base) => base,
    check: (row, queued) => {
      requireNotStopped('reset the password of')(row, queued)
      if (queued) throw new ToygresError('conflict', `"${row.name}" has a change under way; reset the password once it ends (GET /instances/${row.name}/operations)`)
    },
    before: (client, row) => setPendingPassword(client, row.id, deps.secrets.encrypt(password))
  })
  return { ...result, password }
}

/** deletion_protection is metadata: it changes at once, with no operation. */
export async function protect (deps: InstanceServiceDeps, name: string, on: boolean): Promise<InstanceRow> {
  return inTransaction(deps.pool, async client => {
    const row = await findInstanceByName(client, name, true)
    if (!row) throw new ToygresError('not-found', `no instance named "${name}"`)
    await setDeletionProtection(client, row.id, on)
    return { ...row, deletion_protection: on }
  })
}
