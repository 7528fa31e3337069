// apply-labels: the user's labels onto every object of the instance, found
// by its mark. The StatefulSet's pod template is left as it was: changing it
// makes the controller replace the pod (a restart). The running pod is
// labelled directly instead; a pod the controller makes later carries the
// labels the instance was created with. Labels dropped since the last change
// (remembered in an annotation) are removed; ours are never touched.
import type { KubernetesObject } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, ApplyLabelsInput, ChangeOutput } from '../types.ts'
import type { Kind } from './client.ts'
import { markFor, type Kube } from './context.ts'
import { markSelector, USER_LABELS_ANNOTATION } from './names.ts'
import { isOurs } from './ownership.ts'
import { assertValidLabels } from './spec.ts'

const KINDS: Kind[] = ['StatefulSet', 'Pod', 'PersistentVolumeClaim', 'Service', 'Secret', 'ConfigMap']

/** The merge patch that makes `object`'s user labels `wanted`, or undefined when they already are. */
export function labelPatch (object: KubernetesObject, wanted: Record<string, string>): Record<string, unknown> | undefined {
  const labels = object.metadata?.labels ?? {}
  const before = (object.metadata?.annotations?.[USER_LABELS_ANNOTATION] ?? '').split(',').filter(Boolean)
  const patch: Record<string, string | null> = {}
  for (const key of before) if (!(key in wanted) && key in labels) patch[key] = null
  for (const [key, value] of Object.entries(wanted)) if (labels[key] !== value) patch[key] = value
  const keys = Object.keys(wanted).sort().join(',')
  const annotationSame = (object.metadata?.annotations?.[USER_LABELS_ANNOTATION] ?? '') === keys
  if (Object.keys(patch).length === 0 && annotationSame) return undefined
  return { metadata: { labels: patch, annotations: { [USER_LABELS_ANNOTATION]: keys } } }
}

/**
 * apply-labels on Kubernetes (see the header): patches every object with the
 * mark whose user labels differ from `input.labels`. Throws
 * PermanentProvisionerError for a label Kubernetes would refuse or that is
 * Toygres's own, and when the instance has no object at all.
 */
export async function applyLabels (k: Kube, input: ApplyLabelsInput, ctx: ActivityContext): Promise<ChangeOutput> {
  assertValidLabels(input.labels)
  const mark = markFor(k, input)
  let found = 0
  const changed: string[] = []
  for (const kind of KINDS) {
    for (const object of await k.client.list(kind, input.namespace, { labelSelector: markSelector(mark) }, ctx.signal)) {
      if (!isOurs(object, mark) || object.metadata?.deletionTimestamp) continue
      found++
      const patch = labelPatch(object, input.labels)
      if (!patch) continue
      await k.client.patch(kind, input.namespace, object.metadata!.name!, patch, ctx.signal)
      changed.push(`${kind}/${object.metadata!.name}`)
    }
  }
  if (found === 0) throw new PermanentProvisionerError(`instance ${input.instance_name} has no objects in ${input.namespace} to label`)
  return { changed: changed.length > 0, detail: changed.length > 0 ? `labels set on ${changed.join(', ')}` : 'every object already has these labels' }
}
