// The StatefulSet: one PostgreSQL pod with its own volume. The password
// reaches the container only through a secretKeyRef; the certificate and key
// through a Secret volume; pg_hba.conf through a ConfigMap volume.
import type { V1Probe, V1StatefulSet } from '@kubernetes/client-node'
import { DATA_VOLUME, meta, objectLabels, objectNames, PASSWORD_KEY, PG_HBA_KEY, POSTGRES_PORT, selectorLabels } from './names.ts'
import { dataLayout, type InstanceSpec } from './spec.ts'

// The official image's postgres user; fsGroup makes the volume writable by it.
const POSTGRES_UID = 999

/** Where the pod mounts the TLS Secret's tls.crt and tls.key, read-only. */
export const TLS_DIR = '/etc/postgresql/tls'
/** Where the pod mounts pg_hba.conf from the ConfigMap, read-only; hba_file names it. */
export const CONFIG_DIR = '/etc/postgresql/config'

/**
 * Secret volume files get `defaultMode`, and with an fsGroup the kubelet
 * makes them root:fsGroup and ORs in 0440 (pkg/volume/volume_linux.go,
 * SetVolumeOwnership, roMask). So 0600 reads 0640 root:999 in the pod, which
 * PostgreSQL accepts for a key owned by root; 0644 would stay 0644, and
 * PostgreSQL refuses a key that others can read (be-secure-common.c,
 * check_ssl_key_file).
 */
const KEY_MODE = 0o600

/**
 * The server's settings on its command line: the image's entrypoint passes
 * arguments starting with '-' to postgres (docker-entrypoint.sh), and its
 * temporary init server gets them too, so TLS and pg_hba.conf hold from the
 * first start; statements are never logged.
 */
export function serverArgs (): string[] {
  return [
    '-c', 'ssl=on',
    '-c', `ssl_cert_file=${TLS_DIR}/tls.crt`,
    '-c', `ssl_key_file=${TLS_DIR}/tls.key`,
    '-c', `hba_file=${CONFIG_DIR}/${PG_HBA_KEY}`,
    // As the local servers: no statement text in the log, not even the one an ERROR
    // echoes (a failing ALTER ROLE … PASSWORD); the pod log is served by GET …/logs.
    '-c', 'log_statement=none',
    '-c', 'log_min_error_statement=panic'
  ]
}

// TCP to 127.0.0.1 rather than the socket: it proves the server accepts
// network connections. pg_isready needs no pg_hba.conf entry: any answer but
// "starting up" counts as accepting (libpq's PQping).
const isReady = ['pg_isready', '-U', 'postgres', '-h', '127.0.0.1']

function pgIsReadyProbe (periodSeconds: number, failureThreshold: number): V1Probe {
  return { exec: { command: isReady }, periodSeconds, timeoutSeconds: 5, failureThreshold }
}

/**
 * The StatefulSet of one instance: one replica of `<image>:<postgres_version>`
 * laid out as dataLayout says, running as uid 999, probed with pg_isready (up
 * to 5 minutes to start), and one ReadWriteOnce claim of storage_size_gb GiB
 * (written `<n>Gi`, 2^30 bytes each) from spec.storageClass, or the cluster's
 * default class when unset. Expects a spec assertValidSpec accepted.
 */
export function buildStatefulSet (spec: InstanceSpec): V1StatefulSet {
  const names = objectNames(spec.instance_name)
  const layout = dataLayout(spec.postgres_version)
  const labels = objectLabels(spec.instance_name, spec.mark, spec.labels)
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta(names.statefulSet, spec.namespace, labels, spec.labels),
    spec: {
      replicas: 1,
      serviceName: names.headlessService,
      // Immutable once created: the selector stays minimal; the marks are extra labels.
      selector: { matchLabels: selectorLabels(spec.instance_name) },
      template: {
        metadata: { labels },
        spec: {
          // Long enough for a fast shutdown to checkpoint instead of being killed mid-write.
          terminationGracePeriodSeconds: 60,
          // The server needs no Kubernetes API access, and env vars for every Service in the namespace only get in the way.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { runAsNonRoot: true, runAsUser: POSTGRES_UID, runAsGroup: POSTGRES_UID, fsGroup: POSTGRES_UID },
          containers: [{
            name: 'postgres',
            image: `${spec.image}:${spec.postgres_version}`,
            args: serverArgs(),
            ports: [{ name: 'postgresql', containerPort: POSTGRES_PORT, protocol: 'TCP' }],
            env: [
              { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: names.secret, key: PASSWORD_KEY } } },
              { name: 'PGDATA', value: layout.pgdata }
            ],
            resources: { requests: { cpu: '250m', memory: '512Mi' } },
            securityContext: { allowPrivilegeEscalation: false },
            // initdb on first start can take a while on slow disks: up to 5 minutes.
            startupProbe: pgIsReadyProbe(5, 60),
            readinessProbe: pgIsReadyProbe(5, 3),
            livenessProbe: pgIsReadyProbe(10, 6),
            volumeMounts: [
              { name: DATA_VOLUME, mountPath: layout.mountPath },
              { name: 'tls', mountPath: TLS_DIR, readOnly: true },
              { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
              { name: 'shm', mountPath: '/dev/shm' }
            ]
          }],
          volumes: [
            { name: 'tls', secret: { secretName: names.tlsSecret, defaultMode: KEY_MODE, items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] } },
            { name: 'config', configMap: { name: names.configMap, items: [{ key: PG_HBA_KEY, path: PG_HBA_KEY }] } },
            // The container runtime's 64 MiB /dev/shm is too small for parallel query workers.
            { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } }
          ]
        }
      },
      // PVCs outlive the StatefulSet (as Kubernetes does by default); delete-postgres removes them itself, by their marks.
      volumeClaimTemplates: [{
        metadata: { name: DATA_VOLUME, labels },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: `${spec.storage_size_gb}Gi` } },
          ...(spec.storageClass ? { storageClassName: spec.storageClass } : {})
        }
      }]
    }
  }
}
