// What the StatefulSet controller makes for each ordinal: the claims from its
// volumeClaimTemplates and the pod that mounts them
// (pkg/controller/statefulset/stateful_set_utils.go newVersionedStatefulSetPod,
// getPersistentVolumeClaims). Pure, so the controller only decides what is
// missing.
import { createHash } from 'node:crypto'
import type { KubeObject } from './resources.ts'

/** The real controller labels pods with a hash of the template; pods of a StatefulSet name > 52 chars fail validation on it. */
export function revisionOf (sts: KubeObject): string {
  return `${sts.metadata.name}-${createHash('sha256').update(JSON.stringify(sts.spec.template)).digest('hex').slice(0, 10)}`
}

export function claimsFor (sts: KubeObject, i: number): KubeObject[] {
  const { namespace, name, uid } = sts.metadata
  const spec = sts.spec
  const ownedBySet = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete'
  return (spec.volumeClaimTemplates ?? []).map((t: KubeObject) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: `${t.metadata.name}-${name}-${i}`,
      namespace,
      labels: { ...t.metadata.labels, ...spec.selector.matchLabels },
      ...(ownedBySet ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid, controller: true, blockOwnerDeletion: true }] } : {})
    },
    spec: structuredClone(t.spec)
  }))
}

export function podFor (sts: KubeObject, i: number): KubeObject {
  const { namespace, name, uid } = sts.metadata
  const spec = sts.spec
  const podName = `${name}-${i}`
  const volumes = [...(spec.template.spec.volumes ?? [])]
  for (const t of spec.volumeClaimTemplates ?? []) volumes.push({ name: t.metadata.name, persistentVolumeClaim: { claimName: `${t.metadata.name}-${name}-${i}` } })
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName,
      namespace,
      labels: { ...spec.template.metadata?.labels, 'controller-revision-hash': revisionOf(sts), 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) },
      ...(spec.template.metadata?.annotations ? { annotations: { ...spec.template.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid, controller: true, blockOwnerDeletion: true }]
    },
    spec: { ...structuredClone(spec.template.spec), hostname: podName, subdomain: spec.serviceName, volumes }
  }
}

export function statefulSetChildren (sts: KubeObject): { claims: KubeObject[], pods: KubeObject[] } {
  const claims: KubeObject[] = []
  const pods: KubeObject[] = []
  for (let i = 0; i < (sts.spec.replicas ?? 1); i++) {
    claims.push(...claimsFor(sts, i))
    pods.push(podFor(sts, i))
  }
  return { claims, pods }
}
