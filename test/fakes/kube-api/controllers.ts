// The control loops a real cluster runs behind the API: registry defaulting,
// the StatefulSet controller (pod + PVCs), the garbage collector, the
// LoadBalancer provider and a kubelet, optionally backed by a real PostgreSQL.
import { startBackingPostgres, type BackingPostgres } from './backing-postgres.ts'
import { clusterIpFor, IpPool } from './ip-pool.ts'
import { podOutcome, runningStatus, unschedulableStatus, waitingStatus, type Faults } from './kubelet.ts'
import { RESOURCES, type KubeObject } from './resources.ts'
import { statefulSetChildren } from './statefulset-children.ts'
import { StatusError } from './status.ts'
import type { Store, WatchEvent } from './store.ts'
import { validate } from './validate.ts'

export interface ControllerOptions extends Faults {
  /** What a LoadBalancer Service reports as ingress; 'none' never gets one. */
  loadBalancer: 'ip' | 'hostname' | 'none'
  /** Back each running pod with a real PostgreSQL on its LoadBalancer address(es). */
  realPostgres: boolean
  /** The "short async tick" each controller step waits, like a real reconcile. */
  tickMs: number
  /** 'manual': pods stay Pending until the test calls startPod(), to act at a chosen moment. */
  kubelet: 'auto' | 'manual'
}

const key = (ns: string | undefined, name: string): string => `${ns}/${name}`
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

export class Controllers {
  readonly backing = new Map<string, BackingPostgres>()
  readonly #store: Store
  readonly #opts: ControllerOptions
  readonly #pool = new IpPool()
  readonly #lbIps = new Map<string, string>()
  readonly #podIps = new Map<string, string>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #running = new Set<Promise<unknown>>()
  #clusterIps = 1
  #closed = false
  readonly #unsubscribe: () => void

  constructor (store: Store, opts: ControllerOptions) {
    this.#store = store
    this.#opts = opts
    this.#unsubscribe = store.subscribe(store.resourceVersion, e => this.#on(e))
  }

  /** Registry defaulting, run by the API before an object is stored. */
  async prepare (resource: string, o: KubeObject): Promise<void> {
    if (resource === 'secrets') {
      // The API server folds stringData into base64 data and never stores stringData.
      for (const [k, v] of Object.entries(o.stringData ?? {})) (o.data ??= {})[k] = Buffer.from(v).toString('base64')
      delete o.stringData
      o.type ??= 'Opaque'
    } else if (resource === 'services') {
      o.spec.type ??= 'ClusterIP'
      if (o.spec.clusterIP !== 'None') o.spec.clusterIP = clusterIpFor(this.#clusterIps++)
      o.spec.clusterIPs = [o.spec.clusterIP]
      o.status = { loadBalancer: {} }
      if (o.spec.type === 'LoadBalancer' && this.#opts.loadBalancer !== 'none') {
        this.#lbIps.set(key(o.metadata.namespace, o.metadata.name), await this.#pool.allocate(this.#opts.realPostgres ? 5432 : undefined))
      }
    } else if (resource === 'namespaces') {
      o.status = { phase: 'Active' }
    } else if (resource === 'pods' || resource === 'persistentvolumeclaims') {
      o.status = { phase: 'Pending' }
    }
  }

  /** DELETE from the API. Pods terminate gracefully: the container stops before the pod is gone. */
  async remove (resource: string, ns: string | undefined, name: string): Promise<KubeObject> {
    if (resource !== 'pods' || !this.#store.get('pods', ns, name)) return this.#store.remove(resource, ns, name)
    this.#store.update('pods', ns, name, p => { p.metadata.deletionTimestamp = new Date().toISOString() })
    await this.#stopPod(ns, name)
    return this.#store.remove('pods', ns, name)
  }

  #later (fn: () => unknown): void {
    if (this.#closed) return
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      if (this.#closed) return
      const p = Promise.resolve().then(fn).catch(err => { process.stderr.write(`fake kube-api controller: ${String(err)}\n`) })
      this.#running.add(p)
      void p.finally(() => this.#running.delete(p))
    }, this.#opts.tickMs)
    this.#timers.add(timer)
  }

  #on (e: WatchEvent): void {
    const { metadata: m } = e.object
    if (e.resource === 'statefulsets' && e.type === 'ADDED') this.#later(() => this.#reconcileStatefulSet(e.object))
    if (e.resource === 'statefulsets' && e.type === 'DELETED') this.#later(() => this.#collectGarbage(e.object))
    if (e.resource === 'services' && e.type === 'ADDED' && e.object.spec?.type === 'LoadBalancer') this.#later(() => this.#publishIngress(m.namespace, m.name))
    if (e.resource === 'services' && e.type === 'DELETED') {
      const ip = this.#lbIps.get(key(m.namespace, m.name))
      if (ip) this.#pool.release(ip)
      this.#lbIps.delete(key(m.namespace, m.name))
    }
    if (e.resource === 'persistentvolumeclaims' && e.type === 'ADDED') this.#later(() => this.#store.update('persistentvolumeclaims', m.namespace, m.name, p => { p.status = { phase: 'Bound', capacity: p.spec.resources.requests } }))
    if (e.resource === 'pods' && e.type === 'ADDED' && this.#opts.kubelet === 'auto') this.#later(() => this.#runPod(m.namespace, m.name))
    if (e.resource === 'namespaces' && e.type === 'DELETED') this.#later(() => this.#emptyNamespace(m.name))
  }

  #reconcileStatefulSet (sts: KubeObject): void {
    const ns = sts.metadata.namespace
    const { claims, pods } = statefulSetChildren(sts)
    // Claims outlive their pods: an existing one is reused, as Kubernetes does.
    for (const c of claims) if (!this.#store.get('persistentvolumeclaims', ns, c.metadata.name)) this.#create('persistentvolumeclaims', c)
    for (const p of pods) if (!this.#store.get('pods', ns, p.metadata.name)) this.#create('pods', p)
  }

  /** Creates as a controller would: through validation, so a bad name fails here too (e.g. a too-long revision label). */
  #create (resource: string, o: KubeObject): void {
    try {
      validate(RESOURCES[resource]!, o)
      o.status = { phase: 'Pending' }
      this.#store.create(resource, o)
    } catch (err) {
      if (!(err instanceof StatusError)) throw err
      process.stderr.write(`fake kube-api: controller could not create ${resource} ${o.metadata.name}: ${err.message}\n`)
    }
  }

  async #collectGarbage (owner: KubeObject): Promise<void> {
    const pods = this.#store.list('pods', owner.metadata.namespace).filter(p => p.metadata.ownerReferences?.some(r => r.uid === owner.metadata.uid))
    await Promise.all(pods.map(p => this.remove('pods', p.metadata.namespace, p.metadata.name)))
  }

  async #emptyNamespace (ns: string): Promise<void> {
    for (const resource of Object.keys(RESOURCES)) {
      if (!RESOURCES[resource]!.namespaced) continue
      for (const o of this.#store.list(resource, ns)) await this.remove(resource, ns, o.metadata.name).catch(() => {})
    }
  }

  #publishIngress (ns: string | undefined, name: string): void {
    const ip = this.#lbIps.get(key(ns, name))
    if (!ip) return
    const ingress = this.#opts.loadBalancer === 'hostname' ? { hostname: `${name}-${ns}.lb.fake.invalid` } : { ip }
    this.#store.update('services', ns, name, s => { s.status = { loadBalancer: { ingress: [ingress] } } })
  }

  /** The kubelet's work on one pod, now (for kubelet: 'manual'). */
  startPod (ns: string, name: string): Promise<void> {
    return this.#runPod(ns, name)
  }

  async #runPod (ns: string | undefined, name: string): Promise<void> {
    const pod = this.#store.get('pods', ns, name)
    if (!pod) return
    const outcome = podOutcome(pod, this.#opts)
    const setStatus = (status: Record<string, unknown>): void => { this.#store.update('pods', ns, name, p => { p.status = status }) }
    if (outcome.kind === 'unschedulable') return setStatus(unschedulableStatus())
    pod.spec.nodeName ??= 'fake-node-1'
    if (outcome.kind === 'waiting') {
      setStatus(waitingStatus(pod, outcome.reason, outcome.message))
      const then = outcome.then
      if (then) this.#later(() => setStatus(waitingStatus(pod, then.reason, then.message)))
      return
    }
    const password = this.#envFromSecret(pod, 'POSTGRES_PASSWORD')
    if (password instanceof Error) return setStatus(waitingStatus(pod, 'CreateContainerConfigError', password.message))
    let podIP = clusterIpFor(0xf000 + this.#podIps.size)
    if (this.#opts.realPostgres) {
      podIP = await this.#pool.allocate(5432)
      this.#podIps.set(key(ns, name), podIP)
      const lbIps = this.#store.list('services', ns).filter(s => selects(s.spec?.selector, pod.metadata.labels))
        .map(s => this.#lbIps.get(key(ns, s.metadata.name))).filter((ip): ip is string => !!ip)
      try {
        const pg = await startBackingPostgres([podIP, ...lbIps], password)
        this.backing.set(key(ns, name), pg)
      } catch (err) {
        return setStatus(waitingStatus(pod, 'CrashLoopBackOff', `fake: backing PostgreSQL failed: ${(err as Error).message}`, 1))
      }
      // Deleted while starting: the container must not outlive its pod.
      if (!this.#store.get('pods', ns, name) || this.#closed) return this.#stopPod(ns, name)
    }
    setStatus(runningStatus(pod, podIP))
  }

  #envFromSecret (pod: KubeObject, env: string): string | Error {
    const ref = pod.spec.containers?.[0]?.env?.find((e: { name: string }) => e.name === env)?.valueFrom?.secretKeyRef
    if (!ref) return new Error(`fake: container has no ${env} secretKeyRef`)
    const secret = this.#store.get('secrets', pod.metadata.namespace, ref.name)
    if (!secret) return new Error(`secret "${ref.name}" not found`)
    const value = secret.data?.[ref.key]
    if (value === undefined) return new Error(`couldn't find key ${ref.key} in Secret ${pod.metadata.namespace}/${ref.name}`)
    return Buffer.from(value, 'base64').toString('utf8')
  }

  async #stopPod (ns: string | undefined, name: string): Promise<void> {
    const pg = this.backing.get(key(ns, name))
    this.backing.delete(key(ns, name))
    const ip = this.#podIps.get(key(ns, name))
    this.#podIps.delete(key(ns, name))
    await pg?.stop()
    if (ip) this.#pool.release(ip)
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#unsubscribe()
    for (const t of this.#timers) clearTimeout(t)
    await Promise.allSettled([...this.#running])
    await Promise.allSettled([...this.backing.keys()].map(k => {
      const [ns, name] = k.split('/') as [string, string]
      return this.#stopPod(ns, name)
    }))
  }
}
