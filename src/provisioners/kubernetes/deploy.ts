// deploy-postgres: create what is missing, keep what exists with this
// instance's mark, and stop at once at anything of the same name without it
// (a 409 proves only that a name is taken). The claim the StatefulSet will
// mount is checked too: the StatefulSet controller uses any existing claim of
// that name (stateful_pod_control.go createPersistentVolumeClaims), so a
// foreign one would be mounted, and later deleted with the instance.
import type { KubernetesObject, V1PersistentVolumeClaim } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, DeploySpec, DeployPostgresOutput } from '../types.ts'
import type { Kind } from './client.ts'
import { markFor, type Kube } from './context.ts'
import { isNamespaceTerminating } from './errors.ts'
import { buildConfigMap, buildHeadlessService, buildSecret, buildService, buildStatefulSet, buildTlsSecret } from './manifests.ts'
import { ensureNamespace, terminatingMessage } from './namespace.ts'
import { objectNames } from './names.ts'
import { alreadyExistsMessage, isOurs } from './ownership.ts'
import { assertValidSpec, type InstanceSpec } from './spec.ts'

/**
 * How pods are made: the image repository (its tag is the major) and the
 * StorageClass (undefined: the cluster's default).
 */
export interface Images { image: string, storageClass: string | undefined }

/**
 * deploy-postgres on Kubernetes (see the header): checks the spec, makes the
 * namespace when missing, then the Secrets, the ConfigMap, the Services and the
 * StatefulSet, keeping those that exist with this instance's mark. Returns what
 * it created and what it found, as `Kind/name`; does not wait for the pod.
 * Throws PermanentProvisionerError for a bad spec, a namespace being deleted,
 * or a same-named object (or data claim) without the mark; a plain, retryable
 * Error when an object of ours is still being deleted or vanished between
 * create and read.
 */
export async function deploy (k: Kube, input: DeploySpec, ctx: ActivityContext, images: Images): Promise<DeployPostgresOutput> {
  const mark = markFor(k, input)
  const spec: InstanceSpec = {
    namespace: input.namespace,
    instance_name: input.instance_name,
    postgres_version: input.postgres_version,
    storage_size_gb: input.storage_size_gb,
    use_load_balancer: input.use_load_balancer,
    dns_label: input.dns_label,
    allowed_cidrs: input.allowed_cidrs,
    control_plane_cidrs: k.controlPlaneCidrs,
    labels: input.labels,
    mark,
    image: images.image,
    storageClass: images.storageClass
  }
  assertValidSpec(spec)
  const ns = input.namespace
  const { signal } = ctx
  const out: DeployPostgresOutput = { instance_name: input.instance_name, namespace: ns, created: [], existing: [] }
  const record = (what: string, result: 'created' | 'existing'): void => { out[result].push(what) }

  record(`Namespace/${ns}`, await ensureNamespace(k.client, ns, signal))
  // Secrets and the ConfigMap first: the pod mounts and reads them at start.
  const before: Array<[Kind, KubernetesObject]> = [
    ['Secret', buildSecret(spec, input.password)],
    ['Secret', buildTlsSecret(spec, input.tls)],
    ['ConfigMap', buildConfigMap(spec)],
    ['Service', buildHeadlessService(spec)],
    ['Service', buildService(spec)]
  ]
  for (const [kind, body] of before) record(`${kind}/${body.metadata!.name}`, await createOwned(k, kind, ns, body, mark, signal))

  const claimName = objectNames(input.instance_name).pvc
  const claim = await k.client.read<V1PersistentVolumeClaim>('PersistentVolumeClaim', ns, claimName, signal)
  if (claim && !isOurs(claim, mark)) throw new PermanentProvisionerError(`${alreadyExistsMessage('PersistentVolumeClaim', claim, ns, mark)}; the StatefulSet would mount it`)

  const sts = buildStatefulSet(spec)
  record(`StatefulSet/${sts.metadata!.name}`, await createOwned(k, 'StatefulSet', ns, sts, mark, signal))
  k.log.info({ namespace: ns, instance: input.instance_name, created: out.created, existing: out.existing }, 'kubernetes: deployed postgres')
  return out
}

async function createOwned (k: Kube, kind: Kind, ns: string, body: KubernetesObject, mark: ReturnType<typeof markFor>, signal: AbortSignal): Promise<'created' | 'existing'> {
  const name = body.metadata!.name!
  try {
    if (await k.client.create(kind, ns, body, signal)) return 'created'
  } catch (err) {
    if (isNamespaceTerminating(err)) throw new PermanentProvisionerError(terminatingMessage(ns), { cause: err })
    throw err
  }
  const there = await k.client.read(kind, ns, name, signal)
  // Deleted between our create and our read: the retry creates it.
  if (!there) throw new Error(`${kind} ${ns}/${name} existed a moment ago and is gone now; try again`)
  if (!isOurs(there, mark)) throw new PermanentProvisionerError(alreadyExistsMessage(kind, there, ns, mark))
  if (there.metadata?.deletionTimestamp) throw new Error(`${kind} ${ns}/${name} of this instance is still being deleted; try again once it is gone`)
  return 'existing'
}
