// Label and field selectors, the subset of the grammar clients commonly send:
// `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated (all must hold).
// Field selectors resolve a dotted path in the object (`metadata.name`,
// `involvedObject.uid`, `spec.nodeName`, `status.phase`), and only the paths
// the real API server accepts for the resource (its field label conversion
// functions, pkg/apis/core/v1/conversion.go AddFieldLabelConversionsFor*):
// any other is 400 "field label not supported", as on a cluster.
const COMMON = ['metadata.name', 'metadata.namespace']
const SELECTABLE: Record<string, string[]> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  secrets: ['type'],
  namespaces: ['status.phase'],
  nodes: ['spec.unschedulable'],
  services: ['spec.clusterIP', 'spec.type']
}

/** The first field label the API server would refuse for `resource`, if any. */
export function unsupportedField (resource: string, fieldSelector: string | null): string | undefined {
  const allowed = new Set([...COMMON, ...(SELECTABLE[resource] ?? [])])
  for (const term of (fieldSelector ?? '').split(',').map(s => s.trim()).filter(Boolean)) {
    const key = term.split(/!=|==?/)[0]!.trim()
    if (!allowed.has(key)) return key
  }
  return undefined
}

type Requirement = (get: (key: string) => string | undefined) => boolean

function parse (selector: string | null): Requirement[] {
  if (!selector) return []
  return selector.split(',').map(s => s.trim()).filter(Boolean).map(term => {
    const ne = term.match(/^([^!=]+)!=(.*)$/)
    if (ne) return get => get(ne[1]!.trim()) !== ne[2]!.trim()
    const eq = term.match(/^([^!=]+)==?(.*)$/)
    if (eq) return get => get(eq[1]!.trim()) === eq[2]!.trim()
    if (term.startsWith('!')) return get => get(term.slice(1)) === undefined
    return get => get(term) !== undefined
  })
}

interface Meta { metadata: { name?: string, namespace?: string, labels?: Record<string, string> } }

function path (o: unknown, dotted: string): string | undefined {
  let cur: any = o
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = cur[part]
  }
  return cur === undefined || cur === null ? undefined : String(cur)
}

/** `metadata.name=x` with nothing else: the name RequestInfo takes from a list or watch. */
export function exactName (fieldSelector: string | null): string | undefined {
  const terms = (fieldSelector ?? '').split(',').map(s => s.trim()).filter(Boolean)
  for (const t of terms) {
    const m = /^metadata\.name==?(.+)$/.exec(t)
    if (m) return m[1]
  }
  return undefined
}

export function matcher (labelSelector: string | null, fieldSelector: string | null): (o: Meta) => boolean {
  const labels = parse(labelSelector)
  const fields = parse(fieldSelector)
  return o => labels.every(r => r(k => o.metadata.labels?.[k])) && fields.every(r => r(k => path(o, k)))
}

/** A matchLabels map as the `a=b,c=d` string autoscaling/v1 Scale reports. */
export const selectorString = (labels: Record<string, string> | undefined): string =>
  Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
