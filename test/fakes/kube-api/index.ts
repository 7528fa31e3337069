// A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, port 0,
// reached through a generated kubeconfig exactly like a real cluster.
//
//   const kube = await startFakeKubeApi({ realPostgres: true })
//   createKubernetesProvisioner({ kubeconfigPath: kube.kubeconfigPath, ... })
//   kube.state.get('pods', 'toygres', 'orders-0')
//   await kube.close()
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { rm } from 'node:fs/promises'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApiHandler } from './api.ts'
import type { BackingPostgres } from './backing-postgres.ts'
import { Controllers, type ControllerOptions } from './controllers.ts'
import { writeKubeconfig } from './kubeconfig.ts'
import type { KubeObject } from './resources.ts'
import { Store } from './store.ts'

export type { KubeObject } from './resources.ts'

export interface FakeKubeApiOptions extends Partial<ControllerOptions> {
  /** Nodes to register; each gets the topology.kubernetes.io/region label when a region is given. */
  nodes?: Array<{ name: string, region?: string }>
  /** Namespaces that exist from the start (besides `default`). */
  namespaces?: string[]
}

export interface FakeKubeApi {
  url: string
  kubeconfigPath: string
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
  /** Ends every open watch, as an API server restart or an idle proxy would. */
  dropWatches (): void
  /** Runs the kubelet for a pod now (with kubelet: 'manual'). */
  startPod (namespace: string, name: string): Promise<void>
  close (): Promise<void>
}

export async function startFakeKubeApi (opts: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  const store = new Store()
  const controllers = new Controllers(store, {
    loadBalancer: opts.loadBalancer ?? 'ip',
    realPostgres: opts.realPostgres ?? false,
    tickMs: opts.tickMs ?? 5,
    neverPulls: opts.neverPulls ?? [],
    crashes: opts.crashes ?? [],
    unschedulable: opts.unschedulable ?? false,
    kubelet: opts.kubelet ?? 'auto'
  })
  for (const name of ['default', ...(opts.namespaces ?? [])]) {
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, status: { phase: 'Active' } })
  }
  for (const node of opts.nodes ?? [{ name: 'fake-node-1' }]) {
    const labels: Record<string, string> = { 'kubernetes.io/hostname': node.name }
    if (node.region) labels['topology.kubernetes.io/region'] = node.region
    store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: node.name, labels }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })
  }

  const token = randomBytes(16).toString('hex')
  const watches = new Set<ServerResponse>()
  const events = new EventEmitter()
  const server = createServer(createApiHandler({
    store,
    token,
    watches,
    events,
    prepare: (resource, o) => controllers.prepare(resource, o),
    remove: (resource, ns, name) => controllers.remove(resource, ns, name)
  }))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const kubeconfig = await writeKubeconfig(url, token)

  return {
    url,
    kubeconfigPath: kubeconfig.path,
    events,
    dropWatches () { for (const res of watches) res.end() },
    startPod: (ns, name) => controllers.startPod(ns, name),
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
    }
  }
}
