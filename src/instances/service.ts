// Starting create and delete: validate state, write the instance row and start
// its operation in ONE transaction, so there is never a row without a job or
// a job without a row. Nothing here provisions anything.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { findIdempotencyKey, insertIdempotencyKey } from '../db/idempotency-keys.ts'
import { forgetInstance } from '../db/instance-changes.ts'
import { linkOperation, listLinkedOperations } from '../db/instance-events.ts'
import { findInstanceById, findInstanceByName, insertInstance, markDeleting, readPasswordCiphertext, setInstanceOperation, type InstanceRow } from '../db/instances.ts'
import { inTransaction, isUniqueViolation } from '../db/queryable.ts'
import type { Engine } from '../engine/index.ts'
import { ToygresError } from '../errors.ts'
import { activityNames } from '../activities/names.ts'
import type { Orchestrations } from '../orchestrations/registry.ts'
import type { Provisioner } from '../provisioners/provisioner.ts'
import type { CreateInstanceInput, DeleteInstanceInput, Timeouts } from '../orchestrations/types.ts'
import { generatePassword, type SecretBox } from '../secrets.ts'
import type { CertificateAuthority } from '../tls/authority.ts'
import { labelProblems } from './labels.ts'
import type { CreateInstanceRequest } from './requests.ts'

export interface InstanceServiceDeps {
  readonly pool: pg.Pool
  readonly engine: Engine
  readonly secrets: SecretBox
  readonly orchestrations: Orchestrations
  readonly provisioner: Pick<Provisioner, 'kind' | 'supportedVersions' | 'versionsHint' | 'unreachableReason' | 'plannedConnectionString'>
  readonly authority: Pick<CertificateAuthority, 'certificatePem'>
  /** Seconds each wait of an operation may take (configuration, fixed into the operation's input). */
  readonly timeouts: Timeouts
  /** allowed_cidrs when a request does not say; null: anywhere. */
  readonly defaultAllowedCidrs: string[] | null
  /** Namespaces instances may go to; null: any but Kubernetes' own. */
  readonly allowedNamespaces: string[] | null
}

/** Kubernetes' own namespaces: never an instance's, whatever the settings say. */
const SYSTEM_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease']

function namespaceProblem (namespace: string, allowed: string[] | null): string | null {
  if (SYSTEM_NAMESPACES.includes(namespace)) return `${namespace} belongs to Kubernetes itself; instances cannot go there`
  if (allowed !== null && !allowed.includes(namespace)) return `this control plane creates instances only in ${allowed.join(', ')} (TOYGRES_ALLOWED_NAMESPACES)`
  return null
}

/** Milliseconds a create waits to learn whether the platform answers (Kubernetes: GET /version). */
const PLATFORM_CHECK_MS = 3000
/** Milliseconds a "cannot be reached" answer serves other creates (a batch of 100 against a hanging cluster waits once, not 100 times). */
const PLATFORM_DOWN_REUSE_MS = 2000
const platformChecks = new WeakMap<object, { at: number, reason: Promise<string | null> }>()

/**
 * Why the platform cannot be reached now (null: it answers). Concurrent
 * creates share one question; an answer that it is down serves for
 * PLATFORM_DOWN_REUSE_MS, one that it answers is not kept (the next create
 * asks again, so a platform that just went away is noticed at once).
 */
function platformProblem (provisioner: Pick<Provisioner, 'unreachableReason'>): Promise<string | null> {
  const recent = platformChecks.get(provisioner)
  if (recent && Date.now() - recent.at < PLATFORM_DOWN_REUSE_MS) return recent.reason
  const entry = { at: Number.POSITIVE_INFINITY, reason: provisioner.unreachableReason(AbortSignal.timeout(PLATFORM_CHECK_MS)).catch((err: Error) => err.message) }
  platformChecks.set(provisioner, entry)
  void entry.reason.then(reason => {
    if (reason === null) { if (platformChecks.get(provisioner) === entry) platformChecks.delete(provisioner) } else entry.at = Date.now()
  })
  return entry.reason
}

/** A create request with its defaults applied (the schema's defaults, by the validator). */
export type CreateRequest = CreateInstanceRequest & Required<Pick<CreateInstanceRequest, 'postgres_version' | 'storage_size_gb' | 'use_load_balancer' | 'namespace'>>

export interface CreateResult {
  instance: InstanceRow
  /** Set when Toygres generated the password: the only time it is shown. */
  generatedPassword: string | undefined
  /** The connection string the instance will have, when the platform knows it before deploying (local); else null. */
  plannedConnectionString: string | null
  replayed: boolean
}

/** Key order fixed so the same request always digests the same. */
function canonical (req: CreateRequest): string {
  return JSON.stringify([req.name, req.password ?? null, req.postgres_version, req.storage_size_gb, req.use_load_balancer, req.dns_label ?? null, req.namespace,
    req.allowed_cidrs ?? null, Object.entries(req.labels ?? {}).sort(), req.deletion_protection ?? false])
}

export async function requestCreate (deps: InstanceServiceDeps, req: CreateRequest, idempotencyKey?: string): Promise<CreateResult> {
  const available = await deps.provisioner.supportedVersions()
  if (!available.includes(req.postgres_version)) {
    throw new ToygresError('unsupported-version', `PostgreSQL ${req.postgres_version} is not available on the ${deps.provisioner.kind} provisioner; available: ${available.join(', ')}${deps.provisioner.versionsHint ? `. ${deps.provisioner.versionsHint}` : ''}`, {
      errors: [{ field: 'body.postgres_version', message: `must be one of ${available.map(v => JSON.stringify(v)).join(', ')} on this control plane` }]
    })
  }
  const nsProblem = namespaceProblem(req.namespace, deps.allowedNamespaces)
  if (nsProblem) {
    throw new ToygresError('namespace-not-allowed', `namespace ${req.namespace} is not allowed: ${nsProblem}`, {
      errors: [{ field: 'body.namespace', message: nsProblem }]
    })
  }
  const labelErrors = labelProblems(req.labels ?? {}, 'body.labels')
  if (labelErrors.length > 0) throw new ToygresError('validation-failed', labelErrors.map(e => `${e.field} ${e.message}`).join('; '), { errors: labelErrors })
  // A platform that cannot be reached (no kubeconfig, a cluster that does not answer) would fail the create
  // and then its delete: refuse it now, so nothing is made that only ?force=true could remove.
  const unreachable = await platformProblem(deps.provisioner)
  if (unreachable) throw new ToygresError('unavailable', `instances cannot be created now: the ${deps.provisioner.kind} platform cannot be reached: ${unreachable}`)
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
        password_ciphertext: deps.secrets.encrypt(password),
        labels: req.labels ?? {},
        allowed_cidrs: req.allowed_cidrs === undefined ? deps.defaultAllowedCidrs : req.allowed_cidrs,
        deletion_protection: req.deletion_protection ?? false
      })
    } catch (err) {
      if (isUniqueViolation(err, 'instances_name_key')) throw new ToygresError('conflict', `an instance named "${req.name}" already exists`, { cause: err })
      throw err
    }
    // Before the operation can start (it commits with this transaction), so deploy takes the same reservation.
    const planned = await deps.provisioner.plannedConnectionString?.({ namespace: req.namespace, instance_name: req.name, instance_id: instance.id }).catch(() => null) ?? null
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
    // No idempotency key for the engine: the instance's row, new in this transaction, is what makes this create
    // happen once (a replay finds it above), and a start without one is a single statement, queued or eager.
    const { operation } = await deps.engine.start(deps.orchestrations.createInstance, input, { key: req.name, db: client, trace: true })
    await linkOperation(client, instance.id, operation.id, 'create')
    await setInstanceOperation(client, instance.id, operation.id)
    instance.operation_id = operation.id
    return { instance, generatedPassword: req.password === undefined ? password : undefined, plannedConnectionString: planned, replayed: false }
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
  return { instance, generatedPassword: sealed ? deps.secrets.decrypt(sealed) : undefined, plannedConnectionString: null, replayed: true }
}

export interface DeleteResult {
  instance: InstanceRow
  replayed: boolean
}

/**
 * Starts a delete: every operation still pending or running on the instance
 * is cancelled first (a running one cleans up at its next step boundary),
 * and the delete runs after them on the same key. Refused while deletion
 * protection is on. From delete_failed, a new delete starts.
 */
export async function requestDelete (deps: InstanceServiceDeps, name: string): Promise<DeleteResult> {
  return inTransaction(deps.pool, async client => {
    const instance = await findInstanceByName(client, name, true)
    if (!instance) throw new ToygresError('not-found', `no instance named "${name}"`)
    // Repeating a delete returns the delete already under way.
    if (instance.state === 'deleting') return { instance, replayed: true }
    if (instance.deletion_protection) {
      throw new ToygresError('conflict', `deletion protection is on for "${name}": lift it with PATCH /instances/${name} {"deletion_protection": false}, then delete`)
    }
    const input: DeleteInstanceInput = { instance_id: instance.id, name: instance.name, namespace: instance.namespace, timeouts: deps.timeouts }
    await cancelLive(deps, client, instance, 'instance deleted')
    // Once per delete by the instance's row, locked above and marked deleting with this start: no idempotency key.
    const { operation } = await deps.engine.start(deps.orchestrations.deleteInstance, input, { key: instance.name, db: client, trace: true })
    await linkOperation(client, instance.id, operation.id, 'delete')
    await markDeleting(client, instance.id, operation.id)
    return { instance: { ...instance, state: 'deleting', health: 'unknown', error: null, operation_id: operation.id }, replayed: false }
  })
}

/** Cancels every live operation of the instance: its queued and running changes, and its health monitor. */
async function cancelLive (deps: InstanceServiceDeps, client: pg.PoolClient, instance: InstanceRow, reason: string): Promise<void> {
  for (const op of await deps.engine.liveOnKey(instance.name, undefined, client)) await deps.engine.cancel(op.id, { db: client, reason })
  if (instance.health_operation_id) await deps.engine.cancel(instance.health_operation_id, { db: client, reason })
}

export interface ForgetResult {
  name: string
  forgotten: true
  /** What the last deploy made, which may still exist on the platform. */
  may_remain: string[]
}

/**
 * DELETE ?force=true: forgets an instance whose resources cannot be reached
 * (a cluster gone for good), recording what may be left behind. Live
 * operations are cancelled; the name is free at once.
 */
export async function forceDelete (deps: InstanceServiceDeps, name: string): Promise<ForgetResult> {
  return inTransaction(deps.pool, async client => {
    const instance = await findInstanceByName(client, name, true)
    if (!instance) throw new ToygresError('not-found', `no instance named "${name}"`)
    if (instance.deletion_protection) {
      throw new ToygresError('conflict', `deletion protection is on for "${name}": lift it with PATCH /instances/${name} {"deletion_protection": false} first`)
    }
    await cancelLive(deps, client, instance, 'instance forgotten (forced delete)')
    const mayRemain = await deployedObjects(deps, client, instance.id)
    await forgetInstance(client, instance, deps.provisioner.kind, mayRemain, instance.error?.message ?? `forced delete while ${instance.state}`)
    return { name, forgotten: true, may_remain: mayRemain }
  })
}

/** What the create's deploy step reported making (created or already there). */
async function deployedObjects (deps: InstanceServiceDeps, client: pg.PoolClient, instanceId: string): Promise<string[]> {
  const creates = (await listLinkedOperations(client, instanceId, 100)).filter(l => l.kind === 'create')
  const out = new Set<string>()
  for (const link of creates) {
    for (const step of await deps.engine.getSteps(link.operation_id, client)) {
      if (step.name !== activityNames.DEPLOY_POSTGRES || step.status !== 'succeeded') continue
      const o = step.output as { created?: string[], existing?: string[] }
      for (const x of [...(o.created ?? []), ...(o.existing ?? [])]) out.add(x)
    }
  }
  return [...out]
}
