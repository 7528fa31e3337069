// The cloud's side of a LoadBalancer Service (k8s.io/cloud-provider
// controllers/service): EnsuringLoadBalancer, then after a provisioning delay
// status.loadBalancer.ingress and EnsuredLoadBalancer, all from
// `service-controller`. With realPostgres the "load balancer" is a TCP proxy
// on the ingress IP, forwarding each Service port to a Ready endpoint (the pod
// IP and the resolved targetPort), like kube-proxy behind a cloud LB. With
// loadBalancerSourceRanges: 'enforce', a client outside
// spec.loadBalancerSourceRanges (or the
// service.beta.kubernetes.io/load-balancer-source-ranges annotation) is
// dropped as the cloud firewall would: the connection is held and never
// answered, so the client times out.
import { createServer, connect, type Server, type Socket } from 'node:net'
import { refTo, type Recorder } from './events.ts'
import type { IpPool } from './ip-pool.ts'
import type { ClusterOptions } from './options.ts'
import type { KubeObject } from './resources.ts'
import type { Store } from './store.ts'
import type { Tasks } from './tasks.ts'
import { inCidr } from './util.ts'

const key = (ns: string | undefined, name: string): string => `${ns}/${name}`
const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

export class ServiceController {
  readonly lbIps = new Map<string, string>()
  readonly #servers = new Map<string, Server[]>()
  readonly #sockets = new Set<Socket>()
  readonly #store: Store
  readonly #tasks: Tasks
  readonly #opts: ClusterOptions
  readonly #pool: IpPool
  readonly #recorder: Recorder

  constructor (store: Store, tasks: Tasks, opts: ClusterOptions, pool: IpPool, recorder: Recorder) {
    this.#store = store
    this.#tasks = tasks
    this.#opts = opts
    this.#pool = pool
    this.#recorder = recorder
  }

  /** At create: the address is chosen now (so it can be probed), published after the delay. */
  async allocate (svc: KubeObject): Promise<void> {
    if (svc.spec?.type !== 'LoadBalancer' || this.#opts.loadBalancer === 'none') return
    const ports = (svc.spec.ports ?? []).map((p: { port: number }) => p.port)
    this.lbIps.set(key(svc.metadata.namespace, svc.metadata.name), await this.#pool.allocate(this.#opts.realPostgres ? ports[0] : undefined))
  }

  ensure (ns: string | undefined, name: string): void {
    const svc = this.#store.get('services', ns, name)
    if (!svc || svc.spec?.type !== 'LoadBalancer') return
    const src = { component: 'service-controller' }
    this.#recorder.record(refTo(svc), 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer', src)
    const ip = this.lbIps.get(key(ns, name))
    if (!ip) return // loadBalancer: 'none': it never gets an address
    this.#tasks.run(`load balancer ${key(ns, name)}`, async () => {
      await this.#tasks.sleep(this.#opts.loadBalancerDelayMs)
      const now = this.#store.get('services', ns, name)
      if (!now || now.metadata.uid !== svc.metadata.uid) return
      if (this.#opts.realPostgres) await this.#listen(ns!, name, ip, now)
      const ingress = this.#opts.loadBalancer === 'hostname' ? { hostname: `${name}-${ns}.lb.fake.invalid` } : { ip, ipMode: 'VIP' }
      this.#store.update('services', ns, name, s => { s.status = { loadBalancer: { ingress: [ingress] } } })
      this.#recorder.record(refTo(now), 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer', src)
    })
  }

  async #listen (ns: string, name: string, ip: string, svc: KubeObject): Promise<void> {
    const servers: Server[] = []
    for (const p of svc.spec.ports ?? []) {
      const server = createServer(client => this.#forward(ns, name, p, client))
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(p.port, ip, () => resolve()) })
      servers.push(server)
    }
    this.#servers.set(key(ns, name), servers)
  }

  #allowed (svc: KubeObject, address: string | undefined): boolean {
    if (this.#opts.loadBalancerSourceRanges !== 'enforce') return true
    const ranges: string[] = svc.spec?.loadBalancerSourceRanges?.length
      ? svc.spec.loadBalancerSourceRanges
      : (svc.metadata.annotations?.['service.beta.kubernetes.io/load-balancer-source-ranges'] ?? '').split(',').map(s => s.trim()).filter(Boolean)
    if (ranges.length === 0) return true
    return ranges.some(r => inCidr(address ?? '', r))
  }

  #forward (ns: string, name: string, port: any, client: Socket): void {
    this.#sockets.add(client)
    client.on('close', () => this.#sockets.delete(client))
    client.on('error', () => {})
    const svc = this.#store.get('services', ns, name)
    if (!svc) { client.destroy(); return }
    // The cloud firewall drops the packets: no answer, ever.
    if (!this.#allowed(svc, client.remoteAddress)) return
    const endpoint = this.#endpoint(svc, port)
    if (!endpoint) { client.resetAndDestroy(); return }
    const upstream = connect(endpoint)
    this.#sockets.add(upstream)
    upstream.on('close', () => { this.#sockets.delete(upstream); client.destroy() })
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    client.pipe(upstream)
    upstream.pipe(client)
  }

  /** A Ready pod behind the Service and its targetPort (a name resolves against containerPorts). */
  #endpoint (svc: KubeObject, port: any): { host: string, port: number } | undefined {
    const pods = this.#store.list('pods', svc.metadata.namespace).filter(p =>
      selects(svc.spec?.selector, p.metadata.labels) && !p.metadata.deletionTimestamp && p.status?.podIP &&
      p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))
    const pod = pods[0]
    if (!pod) return undefined
    const target = port.targetPort ?? port.port
    if (typeof target === 'number') return { host: pod.status.podIP, port: target }
    for (const c of pod.spec?.containers ?? []) {
      const found = (c.ports ?? []).find((cp: any) => cp.name === target)
      if (found) return { host: pod.status.podIP, port: found.containerPort }
    }
    return undefined
  }

  async release (ns: string | undefined, name: string): Promise<void> {
    const k = key(ns, name)
    const ip = this.lbIps.get(k)
    for (const s of this.#sockets) if (s.localAddress === ip) s.destroy()
    for (const s of this.#servers.get(k) ?? []) await new Promise<void>(resolve => s.close(() => resolve()))
    this.#servers.delete(k)
    if (ip) this.#pool.release(ip)
    this.lbIps.delete(k)
  }

  async close (): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    for (const k of [...this.#servers.keys()]) {
      for (const s of this.#servers.get(k) ?? []) await new Promise<void>(resolve => s.close(() => resolve()))
    }
    this.#servers.clear()
  }
}
