// Label and field selectors, the subset of the grammar clients commonly send:
// `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated (all must hold).
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

export function matcher (labelSelector: string | null, fieldSelector: string | null): (o: Meta) => boolean {
  const labels = parse(labelSelector)
  const fields = parse(fieldSelector)
  return o => labels.every(r => r(k => o.metadata.labels?.[k])) &&
    fields.every(r => r(k => k === 'metadata.name' ? o.metadata.name : k === 'metadata.namespace' ? o.metadata.namespace : undefined))
}
