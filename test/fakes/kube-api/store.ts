// The fake's etcd: objects keyed by resource and namespace/name, one global
// resourceVersion counter, an event log so a watch can resume from any
// resourceVersion, and live watchers.
import { randomUUID } from 'node:crypto'
import { alreadyExists, notFound } from './status.ts'
import { RESOURCES, type KubeObject } from './resources.ts'

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED'
export interface WatchEvent { type: EventType, resource: string, object: KubeObject, rv: number }
type Listener = (e: WatchEvent) => void

const key = (namespace: string | undefined, name: string): string => `${namespace ?? ''}/${name}`
const clone = <T>(o: T): T => structuredClone(o)

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
    stored.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
    t.set(k, stored)
    this.#emit('ADDED', resource, stored)
    return clone(stored)
  }

  /** Replaces an object through `change`; controllers use it for status. */
  update (resource: string, namespace: string | undefined, name: string, change: (o: KubeObject) => void): KubeObject | undefined {
    const t = this.#table(resource)
    const current = t.get(key(namespace, name))
    if (!current) return undefined
    const next = clone(current)
    change(next)
    next.metadata.resourceVersion = String(++this.#rv)
    t.set(key(namespace, name), next)
    this.#emit('MODIFIED', resource, next)
    return clone(next)
  }

  remove (resource: string, namespace: string | undefined, name: string): KubeObject {
    const t = this.#table(resource)
    const current = t.get(key(namespace, name))
    if (!current) throw notFound(resource, name)
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
