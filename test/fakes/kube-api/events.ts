// core/v1 Events as the components' event recorders write them
// (k8s.io/client-go/tools/record/event.go and events_cache.go): an identical
// event (same source, involved object, type, reason and message) is not
// written again, its `count` goes up and `lastTimestamp` moves
// (EventLogger.eventObserve). The name is `<object>.<hex nanoseconds>`, as
// makeEvent does.
import type { KubeObject } from './resources.ts'
import type { Store } from './store.ts'
import { timestamp } from './util.ts'

export interface InvolvedObject {
  kind: string
  name: string
  namespace?: string | undefined
  uid?: string | undefined
  apiVersion?: string | undefined
  resourceVersion?: string | undefined
  fieldPath?: string | undefined
}

export interface Source { component: string, host?: string | undefined }

export const refTo = (o: KubeObject, fieldPath?: string): InvolvedObject => ({
  kind: o.kind ?? '',
  name: o.metadata.name,
  namespace: o.metadata.namespace,
  uid: o.metadata.uid,
  apiVersion: o.apiVersion,
  resourceVersion: o.metadata.resourceVersion,
  ...(fieldPath ? { fieldPath } : {})
})

let sequence = 0

export class Recorder {
  readonly #store: Store
  readonly #seen = new Map<string, string>() // aggregation key → event name
  constructor (store: Store) { this.#store = store }

  record (involved: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string, source: Source): void {
    // Events of cluster-scoped objects (Node, Namespace...) live in `default`.
    const namespace = involved.namespace ?? 'default'
    const { resourceVersion: _rv, ...ref } = involved
    const aggregate = JSON.stringify([source.component, source.host ?? '', ref.kind, namespace, ref.name, ref.uid ?? '', ref.apiVersion ?? '', ref.fieldPath ?? '', type, reason, message])
    const now = timestamp()
    const existing = this.#seen.get(aggregate)
    if (existing && this.#store.get('events', namespace, existing)) {
      this.#store.update('events', namespace, existing, e => { e.count = Number(e.count ?? 1) + 1; e.lastTimestamp = now })
      return
    }
    // A Terminating namespace refuses new content, events included (NamespaceLifecycle admission).
    const ns = this.#store.get('namespaces', undefined, namespace)
    if (!ns || ns.status?.phase === 'Terminating') return
    const name = `${involved.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(sequence++ % 1_000_000)).toString(16)}`
    this.#store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: { ...involved, namespace: involved.namespace },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      eventTime: null,
      source: source.host ? { component: source.component, host: source.host } : { component: source.component },
      reportingComponent: source.component,
      reportingInstance: source.host ?? ''
    })
    this.#seen.set(aggregate, name)
  }
}
