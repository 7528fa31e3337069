// Pure builders: instance spec in, Kubernetes objects out. No I/O, so they are
// tested as plain data and validated against the official schemas. Only
// buildSecret sees the password, only buildTlsSecret the private key.
import type { V1ConfigMap, V1Namespace, V1Secret, V1Service } from '@kubernetes/client-node'
import type { TlsMaterial } from '../types.ts'
import { meta, objectLabels, objectNames, PASSWORD_KEY, PG_HBA_KEY, POSTGRES_PORT, selectorLabels } from './names.ts'

export { PG_HBA_KEY } from './names.ts'
import { pgHbaConf } from './pg-hba.ts'
import type { InstanceSpec } from './spec.ts'

export { buildStatefulSet } from './statefulset.ts'

/**
 * Asks Azure's cloud provider to name a LoadBalancer Service's address
 * `<label>.<region>.cloudapp.azure.com` (cloud-provider-azure, LoadBalancer
 * annotations: https://cloud-provider-azure.sigs.k8s.io/topics/loadbalancer/).
 */
export const AZURE_DNS_LABEL_ANNOTATION = 'service.beta.kubernetes.io/azure-dns-label-name'

const metaOf = (spec: InstanceSpec, name: string) =>
  meta(name, spec.namespace, objectLabels(spec.instance_name, spec.mark, spec.labels), spec.labels)

/** A namespace for ensureNamespace to create when missing; it carries no instance's mark. */
export function buildNamespace (namespace: string): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    // Not instance-labelled: a namespace is shared by many instances, and never deleted by Toygres.
    metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'toygres' } }
  }
}

/**
 * The credentials Secret (Opaque): the password under PASSWORD_KEY. The
 * container reads it as POSTGRES_PASSWORD, which the image uses only to
 * initialise an empty volume.
 */
export function buildSecret (spec: InstanceSpec, password: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metaOf(spec, objectNames(spec.instance_name).secret),
    type: 'Opaque',
    // stringData: the API server encodes it; we never hold a base64 copy.
    stringData: { [PASSWORD_KEY]: password }
  }
}

/**
 * The server certificate, its key and the CA, as a kubernetes.io/tls Secret
 * (the API server insists on tls.crt and tls.key for that type). The pod
 * mounts it with mode 0600; see statefulset.ts for what PostgreSQL sees.
 */
export function buildTlsSecret (spec: InstanceSpec, tls: TlsMaterial): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metaOf(spec, objectNames(spec.instance_name).tlsSecret),
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': tls.cert_pem, 'tls.key': tls.key_pem, 'ca.crt': tls.ca_pem }
  }
}

/** pg_hba.conf, mounted into the pod and named by `hba_file`, so allowed_cidrs can change without a restart. */
export function buildConfigMap (spec: InstanceSpec): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metaOf(spec, objectNames(spec.instance_name).configMap),
    data: { [PG_HBA_KEY]: pgHbaConf(spec.allowed_cidrs, spec.control_plane_cidrs) }
  }
}

const postgresPort = { name: 'postgresql', port: POSTGRES_PORT, targetPort: 'postgresql', protocol: 'TCP' }

/** The StatefulSet's governing Service: gives the pod a stable DNS name. */
export function buildHeadlessService (spec: InstanceSpec): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metaOf(spec, objectNames(spec.instance_name).headlessService),
    spec: {
      clusterIP: 'None',
      // The pod's DNS record must exist while it starts, before it is Ready.
      publishNotReadyAddresses: true,
      selector: selectorLabels(spec.instance_name),
      ports: [postgresPort]
    }
  }
}

/** What clients connect to: a LoadBalancer when asked for, else in-cluster only. */
export function buildService (spec: InstanceSpec): V1Service {
  const metadata = metaOf(spec, objectNames(spec.instance_name).service)
  if (spec.dns_label) metadata.annotations = { ...metadata.annotations, [AZURE_DNS_LABEL_ANNOTATION]: spec.dns_label }
  const base = { selector: selectorLabels(spec.instance_name), ports: [postgresPort] }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: spec.use_load_balancer
      ? {
          type: 'LoadBalancer',
          ...base,
          ...loadBalancerNetwork(spec.allowed_cidrs)
        }
      : { type: 'ClusterIP', ...base }
  }
}

/**
 * The Service fields allowed_cidrs sets: the cloud's firewall
 * (loadBalancerSourceRanges; absent means open), and Local traffic policy,
 * which keeps the client's address on the way in so pg_hba.conf can match it
 * (with Cluster, kube-proxy SNATs to a node address). Docs: "Create an
 * External Load Balancer", Preserving the client source IP.
 */
export function loadBalancerNetwork (allowedCidrs: string[] | null): { externalTrafficPolicy: 'Local', loadBalancerSourceRanges?: string[] } {
  return allowedCidrs === null || allowedCidrs.length === 0
    ? { externalTrafficPolicy: 'Local' }
    : { externalTrafficPolicy: 'Local', loadBalancerSourceRanges: [...allowedCidrs] }
}
