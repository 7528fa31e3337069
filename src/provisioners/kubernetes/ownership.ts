// Whose an object is. An object is this instance's only when it carries both
// marks: this instance's id and this control plane's id. A name, or a
// look-alike label (app.kubernetes.io/managed-by=toygres), proves nothing:
// another team's StatefulSet may share the name, another control plane may
// share the cluster. Nothing without the marks is adopted, changed or removed.
import { createHash } from 'node:crypto'
import type { KubernetesObject } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import { LABELS, type Mark } from './names.ts'

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** A control plane id as a label value: as it is when it fits (63 characters, label syntax), else a digest of it. */
export function controlPlaneMark (id: string): string {
  return id.length <= 63 && LABEL_VALUE.test(id) && id !== '' ? id : createHash('sha256').update(id).digest('hex').slice(0, 40)
}

/**
 * The mark of one instance of one control plane, as label values: the instance
 * id as it is, the control plane id through controlPlaneMark. Throws
 * PermanentProvisionerError when the instance id is not a valid label value (at
 * most 63 characters of letters, digits, '-', '_' and '.', starting and ending
 * with a letter or digit: IsValidLabelValue,
 * k8s.io/apimachinery/pkg/util/validation).
 */
export function markOf (instanceId: string, controlPlaneId: string): Mark {
  if (instanceId.length > 63 || !LABEL_VALUE.test(instanceId) || instanceId === '') {
    throw new PermanentProvisionerError(`instance id "${instanceId}" cannot be a Kubernetes label value`)
  }
  return { instanceId, controlPlane: controlPlaneMark(controlPlaneId) }
}

export type Owner = 'ours' | 'not-toygres' | 'other-control-plane' | 'other-instance'

/**
 * Whose `object` is, by its two mark labels only: 'not-toygres' when either is
 * missing, 'other-control-plane' when the control plane's differs,
 * 'other-instance' when only the instance id differs, else 'ours'.
 */
export function ownerOf (object: KubernetesObject, mark: Mark): Owner {
  const labels = object.metadata?.labels ?? {}
  const id = labels[LABELS.instanceId]
  const plane = labels[LABELS.controlPlane]
  if (id === undefined || plane === undefined) return 'not-toygres'
  if (plane !== mark.controlPlane) return 'other-control-plane'
  return id === mark.instanceId ? 'ours' : 'other-instance'
}

/** True only for an object that exists and carries both labels of `mark`. */
export const isOurs = (object: KubernetesObject | undefined, mark: Mark): boolean => !!object && ownerOf(object, mark) === 'ours'

/** "is not managed by Toygres", "belongs to another Toygres instance (…)"... */
export function whoseIs (object: KubernetesObject, mark: Mark): string {
  const labels = object.metadata?.labels ?? {}
  switch (ownerOf(object, mark)) {
    case 'other-control-plane': return `is managed by another Toygres control plane (${labels[LABELS.controlPlane]})`
    case 'other-instance': return `belongs to another Toygres instance (${labels[LABELS.instanceId]})`
    case 'ours': return 'is this instance\'s'
    default: return 'is not managed by Toygres'
  }
}

/** At create: "a StatefulSet named ledger already exists in shop and is not managed by Toygres". */
export function alreadyExistsMessage (kind: string, object: KubernetesObject, namespace: string, mark: Mark): string {
  return `a ${kind} named ${object.metadata?.name ?? '?'} already exists in ${namespace} and ${whoseIs(object, mark)}`
}

/** On a later change: the object is there, but not this instance's, so it is left alone. */
export function assertOurs (kind: string, object: KubernetesObject, namespace: string, mark: Mark): void {
  if (isOurs(object, mark)) return
  throw new PermanentProvisionerError(`${kind} ${namespace}/${object.metadata?.name ?? '?'} ${whoseIs(object, mark)}; Toygres leaves it alone`)
}
