// The StatefulSet: one PostgreSQL pod with its own volume. The password
// reaches the container only through a secretKeyRef.
import type { V1Probe, V1StatefulSet } from '@kubernetes/client-node'
import { DATA_VOLUME, instanceLabels, meta, objectNames, PASSWORD_KEY, selectorLabels } from './names.ts'
import { dataLayout, type InstanceSpec } from './spec.ts'

// The official image's postgres user; fsGroup makes the volume writable by it.
const POSTGRES_UID = 999

// TCP to 127.0.0.1 rather than the socket: it proves the server accepts
// network connections, which is what clients need.
const isReady = ['pg_isready', '-U', 'postgres', '-h', '127.0.0.1']

function probe (periodSeconds: number, failureThreshold: number): V1Probe {
  return { exec: { command: isReady }, periodSeconds, timeoutSeconds: 5, failureThreshold }
}

export function buildStatefulSet (spec: InstanceSpec): V1StatefulSet {
  const names = objectNames(spec.instance_name)
  const layout = dataLayout(spec.postgres_version)
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(names.statefulSet, spec.namespace, spec.instance_name),
    spec: {
      replicas: 1,
      serviceName: names.headlessService,
      selector: { matchLabels: selectorLabels(spec.instance_name) },
      template: {
        metadata: { labels: instanceLabels(spec.instance_name) },
        spec: {
          // Long enough for a fast shutdown to checkpoint instead of being killed mid-write.
          terminationGracePeriodSeconds: 60,
          securityContext: { runAsNonRoot: true, runAsUser: POSTGRES_UID, runAsGroup: POSTGRES_UID, fsGroup: POSTGRES_UID },
          containers: [{
            name: 'postgres',
            image: `${spec.image}:${spec.postgres_version}`,
            ports: [{ name: 'postgresql', containerPort: 5432, protocol: 'TCP' }],
            env: [
              { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: names.secret, key: PASSWORD_KEY } } },
              { name: 'PGDATA', value: layout.pgdata }
            ],
            resources: { requests: { cpu: '250m', memory: '512Mi' } },
            securityContext: { allowPrivilegeEscalation: false },
            // initdb on first start can take a while on slow disks: up to 5 minutes.
            startupProbe: probe(5, 60),
            readinessProbe: probe(5, 3),
            livenessProbe: probe(10, 6),
            volumeMounts: [
              { name: DATA_VOLUME, mountPath: layout.mountPath },
              { name: 'shm', mountPath: '/dev/shm' }
            ]
          }],
          // The container runtime's 64 MiB /dev/shm is too small for parallel query workers.
          volumes: [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } }]
        }
      },
      // PVCs outlive the StatefulSet (as Kubernetes does by default); delete-postgres removes them itself.
      volumeClaimTemplates: [{
        metadata: { name: DATA_VOLUME, labels: instanceLabels(spec.instance_name) },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: `${spec.storage_size_gb}Gi` } },
          ...(spec.storageClass ? { storageClassName: spec.storageClass } : {})
        }
      }]
    }
  }
}
