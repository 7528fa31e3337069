// What every part of the provisioner works with: the cluster, the thin
// client, the log, this control plane's mark and the limits that decide when
// a wait gives up early.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node'
import type { Logger } from '../../logging.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { OwnedRef } from '../types.ts'
import type { Kind, KubeClient } from './client.ts'
import type { Mark } from './names.ts'
import { assertOurs, markOf } from './ownership.ts'
import type { PodLimits } from './pod-state.ts'

export interface Kube {
  kc: KubeConfig
  client: KubeClient
  log: Logger
  /** This control plane's id, as the provisioner was given it. */
  controlPlaneId: string
  limits: PodLimits
  /** Networks the control plane connects from: always in pg_hba.conf. */
  controlPlaneCidrs: string[]
  /** The cluster's DNS domain, e.g. `cluster.local`. */
  clusterDomain: string
}

/**
 * This instance's mark as this control plane writes it; throws
 * PermanentProvisionerError when the instance id cannot be a label value
 * (markOf).
 */
export const markFor = (k: Kube, ref: OwnedRef): Mark => markOf(ref.instance_id, k.controlPlaneId)

/** The object, checked to be this instance's; a clear, permanent error when it is missing or someone else's. */
export async function readOwned<T extends KubernetesObject> (k: Kube, kind: Kind, ref: OwnedRef, name: string, signal: AbortSignal): Promise<T> {
  const found = await k.client.read<T>(kind, ref.namespace, name, signal)
  if (!found) throw new PermanentProvisionerError(`${kind} ${ref.namespace}/${name} of instance ${ref.instance_name} does not exist`)
  assertOurs(kind, found, ref.namespace, markFor(k, ref))
  return found
}
