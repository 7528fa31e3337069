// Every Kubernetes API call the provisioner makes, as RBAC sees it
// (apiGroup, resource/subresource, verbs), so a least-privilege Role and
// ClusterRole can be written from it. test/provisioners/kubernetes/rbac.test.ts
// replays every method against the fake API server and fails when a request
// is not listed here, or when an entry is never used. GET /version (the
// reachability check) is a non-resource URL every authenticated user may read
// (system:public-info-viewer), so it needs no rule.
export interface ApiRule {
  apiGroup: string
  /** `resource` or `resource/subresource`. */
  resource: string
  verbs: string[]
  /** Namespaced rules go in a Role per namespace (or a ClusterRole bound per namespace); cluster ones need a ClusterRole. */
  scope: 'namespace' | 'cluster'
  why: string
}

/** Every API call the provisioner makes, as RBAC rules; kept exact by the test named above. */
export const API_RULES: ApiRule[] = [
  { apiGroup: '', resource: 'namespaces', verbs: ['get', 'create'], scope: 'cluster', why: 'deploy creates a missing namespace and refuses a Terminating one (a 403 on get is tolerated: the creates then tell)' },
  { apiGroup: '', resource: 'secrets', verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'], scope: 'namespace', why: 'the password and the TLS Secrets; set-password patches; labels; delete lists by mark and watches until gone' },
  { apiGroup: '', resource: 'configmaps', verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'], scope: 'namespace', why: 'pg_hba.conf; apply-network patches it' },
  { apiGroup: '', resource: 'services', verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'], scope: 'namespace', why: 'the headless and client Services; get-connection-strings watches for the load balancer; apply-network patches source ranges' },
  { apiGroup: 'apps', resource: 'statefulsets', verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'], scope: 'namespace', why: 'the StatefulSet; labels; delete' },
  { apiGroup: 'apps', resource: 'statefulsets/scale', verbs: ['patch'], scope: 'namespace', why: 'stop and start' },
  { apiGroup: '', resource: 'pods', verbs: ['get', 'list', 'watch', 'patch', 'delete'], scope: 'namespace', why: 'wait-for-ready reads and watches the pod; restart deletes it; labels patch it in place' },
  { apiGroup: '', resource: 'pods/log', verbs: ['get'], scope: 'namespace', why: 'read-logs, and the last lines of a crash-looping container' },
  { apiGroup: '', resource: 'persistentvolumeclaims', verbs: ['get', 'list', 'watch', 'patch', 'delete'], scope: 'namespace', why: 'the StatefulSet makes the claim; we check its owner, wait for it to bind, grow it, delete it' },
  { apiGroup: '', resource: 'events', verbs: ['list'], scope: 'namespace', why: 'why a pod, claim, Service or StatefulSet waits, in the cluster\'s words' },
  { apiGroup: '', resource: 'nodes', verbs: ['list'], scope: 'cluster', why: 'the region for an Azure DNS label, when TOYGRES_K8S_REGION is not set' },
  { apiGroup: 'storage.k8s.io', resource: 'storageclasses', verbs: ['get'], scope: 'cluster', why: 'resize-storage names the class that does not allow expansion (a 403 is tolerated: the API server then refuses the patch)' }
]
