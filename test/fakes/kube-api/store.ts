// The fake's etcd: objects keyed by resource and namespace/name, one global
// resourceVersion counter, an event log so a watch can resume from any
// resourceVersion, and live watchers.
import { randomUUID } from 'node:crypto'
import { alreadyExists, conflict, notFound } from './status.ts'
import { RESOURCES, type KubeObject } from './resources.ts'
import { timestamp } from './util.ts'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'
export interface WatchEvent { type: EventType, resource: string, object: KubeObject, rv: number }
type Listener = (e: WatchEvent) => void

const key = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`
const clone = <T>(o: T): T => structuredClone(o)
const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * An update that leaves an object with a deletionTimestamp and no finalizers
 * deletes it, as the registry's Update does (shouldDeleteDuringUpdate in
 * k8s.io/apiserver/pkg/registry/generic/registry/store.go). A pod also waits
 * for its grace period to be over: the kubelet ends it with a grace-0 delete.
 */
function shouldDelete (resource: string, o: KubeObject): boolean {
  const m = o.metadata
  if (!m.deletionTimestamp || (m.finalizers?.length ?? 0) > 0) return false
  // A namespace also waits for its spec.finalizers ('kubernetes': the namespace controller).
  if (resource === 'namespaces' && (o.spec?.finalizers?.length ?? 0) > 0) return false
  return resource !== 'pods' || m.deletionGracePeriodSeconds === 0
}

export class Store {
  #rv = 0
  #objects = new Map<string, Map<string, KubeObject>>()
  #log: WatchEvent[] = []
  #listeners = new Set<Listener>()

  get resourceVersion (): number { return this.#rv }

  #table (resource: string): Map<string, KubeObject> {
    let t = this.#objects.get(resource)
    if (!t) this.#objects.set(resource, t = new Map())
    return t
  }

  #emit (type: EventType, resource: string, object: KubeObject): void {
    const e = { type, resource, object: clone(object), rv: this.#rv }
    this.#log.push(e)
    for (const l of this.#listeners) l(e)
  }

  get (resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.#table(resource).get(key(namespace, name))
    return o && clone(o)
  }

  list (resource: string, namespace?: string): KubeObject[] {
    return [...this.#table(resource).values()].filter(o => namespace === undefined || o.metadata.namespace === namespace).map(clone)
  }

  create (resource: string, object: KubeObject): KubeObject {
    const t = this.#table(resource)
    const k = key(object.metadata.namespace, object.metadata.name)
    if (t.has(k)) throw alreadyExists(resource, object.metadata.name, RESOURCES[resource]?.group)
    const stored = clone(object)
    stored.metadata.uid = randomUUID()
    stored.metadata.resourceVersion = String(++this.#rv)
    stored.metadata.creationTimestamp = timestamp()
    if (stored.spec !== undefined) stored.metadata.generation = 1
    delete stored.metadata.deletionTimestamp
    delete stored.metadata.deletionGracePeriodSeconds
    t.set(k, stored)
    this.#emit('ADDED', resource, stored)
    return clone(stored)
  }

  /** Replaces an object through `change`; controllers use it for status. */
  update (resource: string, namespace: string | undefined, name: string, change: (o: KubeObject) => void): KubeObject | undefined {
    const current = this.#table(resource).get(key(namespace, name))
    if (!current) return undefined
    const next = clone(current)
    change(next)
    return this.#write(resource, current, next)
  }

  /**
   * PUT semantics: the whole object, with optimistic concurrency when the
   * body carries a resourceVersion (a stale one is 409 Conflict).
   */
  replace (resource: string, next: KubeObject): KubeObject {
    const { namespace, name } = next.metadata
    const current = this.#table(resource).get(key(namespace, name))
    if (!current) throw notFound(resource, name, RESOURCES[resource]?.group)
    const rv = next.metadata.resourceVersion
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw conflict(resource, name, RESOURCES[resource]?.group)
    const merged = clone(next)
    // Fields a client cannot change on an update (ObjectMeta rules).
    for (const f of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
      if (current.metadata[f] === undefined) delete merged.metadata[f]
      else merged.metadata[f] = current.metadata[f] as never
    }
    return this.#write(resource, current, merged)
  }

  #write (resource: string, current: KubeObject, next: KubeObject): KubeObject {
    const k = key(current.metadata.namespace, current.metadata.name)
    if (current.spec !== undefined && !sameJson(current.spec, next.spec)) next.metadata.generation = (current.metadata.generation ?? 1) + 1
    next.metadata.resourceVersion = String(++this.#rv)
    if (shouldDelete(resource, next)) {
      this.#table(resource).delete(k)
      this.#emit('DELETED', resource, next)
      return clone(next)
    }
    this.#table(resource).set(k, next)
    this.#emit('MODIFIED', resource, next)
    return clone(next)
  }

  remove (resource: string, namespace: string | undefined, name: string): KubeObject {
    const t = this.#table(resource)
    const current = t.get(key(namespace, name))
    if (!current) throw notFound(resource, name, RESOURCES[resource]?.group)
    t.delete(key(namespace, name))
    current.metadata.resourceVersion = String(++this.#rv)
    this.#emit('DELETED', resource, current)
    return clone(current)
  }

  /** Events after `sinceRv`, then live ones, until the returned function is called. */
  subscribe (sinceRv: number, listener: Listener): () => void {
    for (const e of this.#log) if (e.rv > sinceRv) listener(e)
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
}
