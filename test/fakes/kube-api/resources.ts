// The resource types the fake serves and the naming rule each one enforces.
export type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label'

export interface ResourceType {
  resource: string
  kind: string
  apiVersion: string
  group: string
  namespaced: boolean
  nameRule: NameRule
  /** Types whose `status` is a subresource: a PUT/PATCH of the object keeps the stored status. */
  hasStatus?: boolean
}

const core = (resource: string, kind: string, namespaced: boolean, nameRule: NameRule, hasStatus = false): ResourceType =>
  ({ resource, kind, apiVersion: 'v1', group: '', namespaced, nameRule, hasStatus })

export const RESOURCES: Record<string, ResourceType> = {
  namespaces: core('namespaces', 'Namespace', false, 'dns1123-label', true),
  nodes: core('nodes', 'Node', false, 'dns1123-subdomain', true),
  secrets: core('secrets', 'Secret', true, 'dns1123-subdomain'),
  configmaps: core('configmaps', 'ConfigMap', true, 'dns1123-subdomain'),
  services: core('services', 'Service', true, 'dns1035-label', true),
  pods: core('pods', 'Pod', true, 'dns1123-subdomain', true),
  persistentvolumeclaims: core('persistentvolumeclaims', 'PersistentVolumeClaim', true, 'dns1123-subdomain', true),
  events: core('events', 'Event', true, 'dns1123-subdomain'),
  statefulsets: { resource: 'statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1', group: 'apps', namespaced: true, nameRule: 'dns1123-subdomain', hasStatus: true },
  storageclasses: { resource: 'storageclasses', kind: 'StorageClass', apiVersion: 'storage.k8s.io/v1', group: 'storage.k8s.io', namespaced: false, nameRule: 'dns1123-subdomain' }
}

/** API group → the one version the fake serves. */
export const GROUP_VERSIONS: Record<string, string> = { '': 'v1', apps: 'v1', 'storage.k8s.io': 'v1', policy: 'v1', autoscaling: 'v1' }

/** `statefulsets.apps`, `pods`: how Status messages name a resource. */
export const qualified = (type: ResourceType): string => type.group ? `${type.resource}.${type.group}` : type.resource

// Loose on purpose: objects are whatever JSON the client sent, plus what we add.
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    uid?: string
    resourceVersion?: string
    generation?: number
    creationTimestamp?: string
    deletionTimestamp?: string
    deletionGracePeriodSeconds?: number
    finalizers?: string[]
    labels?: Record<string, string>
    annotations?: Record<string, string>
    ownerReferences?: Array<Record<string, unknown>>
    [k: string]: unknown
  }
  spec?: any
  status?: any
  data?: Record<string, string>
  stringData?: Record<string, string>
  [k: string]: unknown
}
