// The resource types the fake serves and the naming rule each one enforces.
export type NameRule = 'dns1123-label' | 'dns1123-subdomain' | 'dns1035-label'

export interface ResourceType {
  resource: string
  kind: string
  apiVersion: string
  group: string
  namespaced: boolean
  nameRule: NameRule
}

const core = (resource: string, kind: string, namespaced: boolean, nameRule: NameRule): ResourceType =>
  ({ resource, kind, apiVersion: 'v1', group: '', namespaced, nameRule })

export const RESOURCES: Record<string, ResourceType> = {
  namespaces: core('namespaces', 'Namespace', false, 'dns1123-label'),
  nodes: core('nodes', 'Node', false, 'dns1123-subdomain'),
  secrets: core('secrets', 'Secret', true, 'dns1123-subdomain'),
  services: core('services', 'Service', true, 'dns1035-label'),
  pods: core('pods', 'Pod', true, 'dns1123-subdomain'),
  persistentvolumeclaims: core('persistentvolumeclaims', 'PersistentVolumeClaim', true, 'dns1123-subdomain'),
  statefulsets: { resource: 'statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1', group: 'apps', namespaced: true, nameRule: 'dns1123-subdomain' }
}

// Loose on purpose: objects are whatever JSON the client sent, plus what we add.
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    uid?: string
    resourceVersion?: string
    creationTimestamp?: string
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
