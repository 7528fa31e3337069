// What the StatefulSet controller makes for each ordinal: the claims from its
// volumeClaimTemplates and the pod that mounts them. Pure, so the controller
// only decides what is missing.
import { createHash } from 'node:crypto'
import type { KubeObject } from './resources.ts'

export function statefulSetChildren (sts: KubeObject): { claims: KubeObject[], pods: KubeObject[] } {
  const { namespace, name, uid } = sts.metadata
  const spec = sts.spec
  // The real controller labels pods with a hash of the template; pods of a StatefulSet name > 52 chars fail validation on it.
  const hash = createHash('sha256').update(JSON.stringify(spec.template)).digest('hex').slice(0, 10)
  const claims: KubeObject[] = []
  const pods: KubeObject[] = []
  for (let i = 0; i < (spec.replicas ?? 1); i++) {
    const podName = `${name}-${i}`
    const volumes = [...(spec.template.spec.volumes ?? [])]
    for (const t of spec.volumeClaimTemplates ?? []) {
      const claimName = `${t.metadata.name}-${name}-${i}`
      volumes.push({ name: t.metadata.name, persistentVolumeClaim: { claimName } })
      claims.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claimName, namespace, labels: { ...t.metadata.labels, ...spec.selector.matchLabels } }, spec: t.spec })
    }
    pods.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace,
        labels: { ...spec.template.metadata?.labels, 'controller-revision-hash': `${name}-${hash}`, 'statefulset.kubernetes.io/pod-name': podName, 'apps.kubernetes.io/pod-index': String(i) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid, controller: true, blockOwnerDeletion: true }]
      },
      spec: { ...spec.template.spec, hostname: podName, subdomain: spec.serviceName, volumes }
    })
  }
  return { claims, pods }
}
