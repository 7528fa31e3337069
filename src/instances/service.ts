// Starting create and delete: validate state, write the instance row and start
// its operation in ONE transaction, so there is never a row without a job or
// a job without a row. Nothing here provisions anything.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { findIdempotencyKey, insertIdempotencyKey } from '../db/idempotency-keys.ts'
import { findInstanceById, findInstanceByName, insertInstance, markDeleting, readPasswordCiphertext, setInstanceOperation, type InstanceRow } from '../db/instances.ts'
import { inTransaction, isUniqueViolation } from '../db/queryable.ts'
import type { Engine } from '../engine/index.ts'
import { ToygresError } from '../errors.ts'
import type { Orchestrations } from '../orchestrations/registry.ts'
import type { CreateInstanceInput, DeleteInstanceInput, Timeouts } from '../orchestrations/types.ts'
import { generatePassword, type SecretBox } from '../secrets.ts'
import type { CreateInstanceRequest } from './requests.ts'

export interface InstanceServiceDeps {
  readonly pool: pg.Pool
  readonly engine: Engine
  readonly secrets: SecretBox
  readonly orchestrations: Pick<Orchestrations, 'createInstance' | 'deleteInstance'>
  /** Seconds each wait of an operation may take (configuration, fixed into the operation's input). */
  readonly timeouts: Timeouts
  /** allowed_cidrs when a request does not say; null: anywhere. */
  readonly defaultAllowedCidrs: string[] | null
}

/** A create request with its defaults applied (the schema's defaults, by the validator). */
export type CreateRequest = CreateInstanceRequest & Required<Pick<CreateInstanceRequest, 'postgres_version' | 'storage_size_gb' | 'use_load_balancer' | 'namespace'>>

export interface CreateResult {
  instance: InstanceRow
  /** Set when Toygres generated the password: the only time it is shown. */
  generatedPassword: string | undefined
  replayed: boolean
}

/** Key order fixed so the same request always digests the same. */
function canonical (req: CreateRequest): string {
  return JSON.stringify([req.name, req.password ?? null, req.postgres_version, req.storage_size_gb, req.use_load_balancer, req.dns_label ?? null, req.namespace,
    req.allowed_cidrs ?? null, Object.entries(req.labels ?? {}).sort()])
}

export async function requestCreate (deps: InstanceServiceDeps, req: CreateRequest, idempotencyKey?: string): Promise<CreateResult> {
  const password = req.password ?? generatePassword()
  const instanceId = randomUUID()
  const requestHmac = deps.secrets.hmac(canonical(req))
  return inTransaction(deps.pool, async client => {
    if (idempotencyKey !== undefined) {
      const claimed = await insertIdempotencyKey(client, { key: idempotencyKey, request_hmac: requestHmac, instance_id: instanceId, password_generated: req.password === undefined })
      if (!claimed) return replay(deps, client, idempotencyKey, requestHmac)
    }
    let instance: InstanceRow
    try {
      instance = await insertInstance(client, {
        id: instanceId, name: req.name, namespace: req.namespace, postgres_version: req.postgres_version,
        storage_size_gb: req.storage_size_gb, use_load_balancer: req.use_load_balancer, dns_label: req.dns_label ?? null,
        password_ciphertext: deps.secrets.encrypt(password)
      })
    } catch (err) {
      if (isUniqueViolation(err, 'instances_name_key')) throw new ToygresError('conflict', `an instance named "${req.name}" already exists`, { cause: err })
      throw err
    }
    const input: CreateInstanceInput = {
      instance_id: instance.id,
      name: req.name,
      postgres_version: req.postgres_version,
      storage_size_gb: req.storage_size_gb,
      use_load_balancer: req.use_load_balancer,
      dns_label: req.dns_label ?? null,
      namespace: req.namespace,
      allowed_cidrs: req.allowed_cidrs === undefined ? deps.defaultAllowedCidrs : req.allowed_cidrs,
      labels: req.labels ?? {},
      timeouts: deps.timeouts
    }
    const { operation } = await deps.engine.start(deps.orchestrations.createInstance, input, { key: req.name, idempotencyKey: `create:${instance.id}`, db: client })
    await setInstanceOperation(client, instance.id, operation.id)
    instance.operation_id = operation.id
    return { instance, generatedPassword: req.password === undefined ? password : undefined, replayed: false }
  })
}

/**
 * The same key again: the same request gets the original answer (including a
 * generated password: a client retrying after a lost response must not lose
 * it), a different request gets 422.
 */
async function replay (deps: InstanceServiceDeps, client: pg.PoolClient, key: string, requestHmac: string): Promise<CreateResult> {
  const original = await findIdempotencyKey(client, key)
  if (!original || original.request_hmac !== requestHmac) {
    throw new ToygresError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body')
  }
  const instance = await findInstanceById(client, original.instance_id)
  if (!instance) throw new ToygresError('conflict', 'the instance created with this Idempotency-Key has since been deleted')
  const sealed = original.password_generated ? await readPasswordCiphertext(client, instance.id) : null
  return { instance, generatedPassword: sealed ? deps.secrets.decrypt(sealed) : undefined, replayed: true }
}

export interface DeleteResult {
  instance: InstanceRow
  replayed: boolean
}

export async function requestDelete (deps: InstanceServiceDeps, name: string): Promise<DeleteResult> {
  return inTransaction(deps.pool, async client => {
    const instance = await findInstanceByName(client, name, true)
    if (!instance) throw new ToygresError('not-found', `no instance named "${name}"`)
    // Repeating a delete returns the delete already under way.
    if (instance.state === 'deleting') return { instance, replayed: true }
    const previous = instance.operation_id
    const input: DeleteInstanceInput = { instance_id: instance.id, name: instance.name, namespace: instance.namespace, timeouts: deps.timeouts }
    const { operation } = await deps.engine.start(deps.orchestrations.deleteInstance, input, { key: instance.name, idempotencyKey: `delete:${instance.id}`, db: client })
    // A create still running stops at its next step boundary (its running step
    // is aborted) and cleans up; the delete, on the same key, runs after it.
    if (previous && instance.state === 'creating') await deps.engine.cancel(previous, { db: client, reason: 'instance deleted' })
    if (instance.health_operation_id) await deps.engine.cancel(instance.health_operation_id, { db: client, reason: 'instance deleted' })
    await markDeleting(client, instance.id, operation.id)
    return { instance: { ...instance, state: 'deleting', health: 'unknown', operation_id: operation.id }, replayed: false }
  })
}
