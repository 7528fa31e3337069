// Pure builders: instance spec in, Kubernetes objects out. No I/O, so they are
// tested as plain data and validated against the official schemas. Only
// buildSecret ever sees the password.
import type { V1Namespace, V1Secret, V1Service } from '@kubernetes/client-node'
import { meta, objectNames, PASSWORD_KEY, POSTGRES_PORT, selectorLabels } from './names.ts'
import type { InstanceSpec } from './spec.ts'

export { buildStatefulSet } from './statefulset.ts'

export const AZURE_DNS_LABEL_ANNOTATION = 'service.beta.kubernetes.io/azure-dns-label-name'

export function buildNamespace (namespace: string): V1Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    // Not instance-labelled: a namespace is shared by many instances.
    metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'toygres' } }
  }
}

export function buildSecret (spec: InstanceSpec, password: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(objectNames(spec.instance_name).secret, spec.namespace, spec.instance_name),
    type: 'Opaque',
    // stringData: the API server encodes it; we never hold a base64 copy.
    stringData: { [PASSWORD_KEY]: password }
  }
}

const postgresPort = { name: 'postgresql', port: POSTGRES_PORT, targetPort: 'postgresql', protocol: 'TCP' }

/** The StatefulSet's governing Service: gives the pod a stable DNS name. */
export function buildHeadlessService (spec: InstanceSpec): V1Service {
  const names = objectNames(spec.instance_name)
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(names.headlessService, spec.namespace, spec.instance_name),
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
  const names = objectNames(spec.instance_name)
  const metadata = meta(names.service, spec.namespace, spec.instance_name)
  if (spec.dns_label) metadata.annotations = { [AZURE_DNS_LABEL_ANNOTATION]: spec.dns_label }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      type: spec.use_load_balancer ? 'LoadBalancer' : 'ClusterIP',
      selector: selectorLabels(spec.instance_name),
      ports: [postgresPort]
    }
  }
}
