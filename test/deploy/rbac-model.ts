// RBAC as the API server's authorizer applies it
// (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac): a request is allowed
// when a rule of a role bound to the subject matches its RequestInfo; a
// RoleBinding only counts for requests in its own namespace (a namespace's
// own object included: GET namespaces/x carries namespace x). Used here the
// other way round too: a grant no request needs is one too many.
import type { RequestRecord } from '../fakes/kube-api/index.ts'
import type { KubeObject } from './render.ts'

/** One verb on one resource, from one rule, in one scope (a namespace, or null: cluster-wide). */
export interface Grant {
  via: string
  scope: string | null
  apiGroup: string
  resource: string
  verb: string
  resourceNames: string[]
}

export interface Subject { namespace: string, name: string }

export function grantsOf (objects: KubeObject[], subject: Subject): Grant[] {
  const bindings = objects.filter(o => (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') &&
    (o.subjects ?? []).some((s: { kind: string, name: string, namespace?: string }) => s.kind === 'ServiceAccount' && s.name === subject.name && s.namespace === subject.namespace))
  return bindings.flatMap(b => {
    const scope = b.kind === 'RoleBinding' ? b.metadata.namespace! : null
    const role = objects.find(o => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name && (o.kind === 'ClusterRole' || o.metadata.namespace === scope))
    if (!role) throw new Error(`${b.kind} ${b.metadata.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, which does not exist`)
    const via = `${role.kind} ${role.metadata.name}${scope ? ` in ${scope}` : ''}`
    return (role.rules ?? []).flatMap((rule: Record<string, string[] | undefined>) =>
      (rule.apiGroups ?? []).flatMap(apiGroup => (rule.resources ?? []).flatMap(resource => (rule.verbs ?? []).map(verb =>
        ({ via, scope, apiGroup, resource, verb, resourceNames: rule.resourceNames ?? [] })))))
  })
}

export function allows (g: Grant, r: RequestRecord): boolean {
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource
  return (g.scope === null || g.scope === r.namespace) && g.apiGroup === r.apiGroup && g.resource === resource && g.verb === r.verb &&
    (g.resourceNames.length === 0 || (r.name !== '' && g.resourceNames.includes(r.name)))
}

export const describeRequest = (r: RequestRecord): string =>
  `${r.verb} ${r.apiGroup || 'core'}/${r.resource}${r.subresource ? `/${r.subresource}` : ''} ${r.namespace ? `in ${r.namespace}` : '(cluster-scoped)'}`
export const describeGrant = (g: Grant): string => `${g.verb} ${g.apiGroup || 'core'}/${g.resource} (${g.via})`

/** Requests no grant allows (missing rights), and grants no request uses (rights too many). */
export function compare (grants: Grant[], requests: RequestRecord[]): { missing: string[], unused: string[] } {
  const missing = new Set(requests.filter(r => !grants.some(g => allows(g, r))).map(describeRequest))
  const unused = new Set(grants.filter(g => !requests.some(r => allows(g, r))).map(describeGrant))
  return { missing: [...missing].sort(), unused: [...unused].sort() }
}
