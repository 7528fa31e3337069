// A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, port 0,
// reached through a generated kubeconfig exactly like a real cluster.
//
//   const kube = await startFakeKubeApi({ realPostgres: true, profile: 'realistic' })
//   createKubernetesProvisioner({ kubeconfigPath: kube.kubeconfigPath, ... })
//   kube.state.get('pods', 'toygres', 'orders-0')
//   await kube.close()
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiHandler, type RequestRecord } from './api.ts'
import type { BackingPostgres } from './backing-postgres.ts'
import { Controllers } from './controllers.ts'
import { writeKubeconfig } from './kubeconfig.ts'
import { resolveOptions, type ClusterOptions, type Profile } from './options.ts'
import type { KubeObject } from './resources.ts'
import { Store } from './store.ts'

export type { KubeObject } from './resources.ts'
export type { RequestRecord } from './api.ts'
export type { ClusterOptions, PullFailure, StorageClassOption } from './options.ts'

export interface FakeKubeApiOptions extends Partial<ClusterOptions> {
  /** 'realistic': a real cluster's transient states with short timings (see options.ts REALISTIC). Default 'default'. */
  profile?: Profile
  /** Nodes to register; each gets the topology.kubernetes.io/region label when a region is given. */
  nodes?: Array<{ name: string, region?: string }>
  /** Namespaces that exist from the start (besides `default`). */
  namespaces?: string[]
}

export interface FakeKubeApi {
  url: string
  kubeconfigPath: string
  /** The options in force, after the profile and the defaults. */
  options: ClusterOptions
  state: {
    get (resource: string, namespace: string | undefined, name: string): KubeObject | undefined
    list (resource: string, namespace?: string): KubeObject[]
    /** Real PostgreSQL processes backing running pods, by `<namespace>/<pod>`. */
    backing: ReadonlyMap<string, BackingPostgres>
    /** Controllers' way in, for tests that simulate a cluster changing under them. */
    store: Store
  }
  /** 'watch' (resource, namespace): a client's watch is open. */
  events: EventEmitter
  /** core/v1 Events in `namespace` (about `involvedName`, of `kind`, if given), in the order first recorded. */
  kubeEvents (namespace: string, involvedName?: string, kind?: string): KubeObject[]
  /** Every request, as the API server's RequestInfo resolver saw it. Live array. */
  readonly requests: RequestRecord[]
  clearRequests (): void
  /** Ends every open watch, as an API server restart or an idle proxy would. */
  dropWatches (): void
  /** Runs the kubelet for a pod now (with kubelet: 'manual'); rejects when the pod does not exist (yet). */
  startPod (namespace: string, name: string): Promise<void>
  /** SIGKILLs the pod's running container (exit 137); the kubelet restarts it. False when none runs. */
  killContainer (namespace: string, pod: string): boolean
  /** The Eviction API: the pod is deleted gracefully (Killing), its StatefulSet makes a new one. */
  evictPod (namespace: string, name: string): Promise<void>
  /** kubectl drain: cordon the node, then evict every pod on it. */
  drainNode (node: string): Promise<void>
  uncordonNode (node: string): void
  /** Puts a foreign finalizer on an object, so its DELETE only marks it (deletionTimestamp). */
  hold (resource: string, namespace: string | undefined, name: string, finalizer?: string): void
  /** Removes that finalizer; an object being deleted goes once none is left. */
  release (resource: string, namespace: string | undefined, name: string, finalizer?: string): void
  close (): Promise<void>
}

export const HOLD_FINALIZER = 'fake.toygres.test/hold'

export async function startFakeKubeApi (opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const { profile, nodes, namespaces, ...rest } = opts
  const options = resolveOptions(profile, rest)
  const store = new Store()
  const baseDir = await mkdtemp(join(tmpdir(), 'toygres-fake-kube-'))
  await chmod(baseDir, 0o755) // the postgres OS user must be able to enter it
  const controllers = new Controllers(store, options, baseDir)
  for (const name of ['default', ...(namespaces ?? [])]) {
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } })
  }
  for (const node of nodes ?? [{ name: 'fake-node-1' }]) controllers.addNode(node.name, node.region)
  controllers.addStorageClass({ ...options.defaultStorageClass, isDefault: options.defaultStorageClass.isDefault ?? true })
  for (const sc of options.storageClasses) controllers.addStorageClass(sc)

  const token = randomBytes(16).toString('hex')
  const watches = new Set<ServerResponse>()
  const events = new EventEmitter()
  const requests: RequestRecord[] = []
  const server = createServer(createApiHandler({ store, token, watches, events, controllers, requests }))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const kubeconfig = await writeKubeconfig(url, token)
  const setFinalizer = (resource: string, ns: string | undefined, name: string, change: (f: string[]) => string[]): void => {
    const o = store.update(resource, ns, name, x => { x.metadata.finalizers = change(x.metadata.finalizers ?? []) })
    if (!o) throw new Error(`fake kube-api: no ${resource} ${ns ?? ''}/${name}`)
  }

  return {
    url,
    kubeconfigPath: kubeconfig.path,
    options,
    events,
    requests,
    clearRequests () { requests.length = 0 },
    kubeEvents (namespace, involvedName, kind) {
      // In the order they were first recorded (the name ends in hex nanoseconds, as the recorder makes it).
      const order = (e: KubeObject): bigint => BigInt(`0x${e.metadata.name.slice(e.metadata.name.lastIndexOf('.') + 1)}`)
      return store.list('events', namespace)
        .filter(e => involvedName === undefined || (e.involvedObject as { name: string }).name === involvedName)
        .filter(e => kind === undefined || (e.involvedObject as { kind: string }).kind === kind)
        .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    },
    dropWatches () { for (const res of watches) res.end() },
    startPod: (ns, name) => controllers.startPod(ns, name),
    killContainer: (ns, name) => controllers.kubelet.killContainer(ns, name),
    async evictPod (ns, name) { await controllers.remove('pods', ns, name) },
    async drainNode (node) {
      store.update('nodes', undefined, node, n => {
        n.spec = { ...n.spec, unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule', timeAdded: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] }
      })
      for (const p of store.list('pods')) if (p.spec?.nodeName === node && !p.metadata.deletionTimestamp) await controllers.remove('pods', p.metadata.namespace, p.metadata.name)
    },
    uncordonNode (node) { store.update('nodes', undefined, node, n => { n.spec = { ...n.spec, unschedulable: false, taints: [] } }) },
    hold: (resource, ns, name, finalizer = HOLD_FINALIZER) => setFinalizer(resource, ns, name, f => f.includes(finalizer) ? f : [...f, finalizer]),
    release: (resource, ns, name, finalizer = HOLD_FINALIZER) => setFinalizer(resource, ns, name, f => f.filter(x => x !== finalizer)),
    state: {
      get: (resource, ns, name) => store.get(resource, ns, name),
      list: (resource, ns) => store.list(resource, ns),
      backing: controllers.backing,
      store
    },
    async close () {
      for (const res of watches) res.end()
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      await controllers.close()
      await rm(kubeconfig.dir, { recursive: true, force: true })
      await rm(baseDir, { recursive: true, force: true })
    }
  }
}
