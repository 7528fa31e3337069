// Shared by the fake's own tests: a fake cluster, a raw HTTP client with the
// kubeconfig's token, and waits on the fake's store (never on the clock).
import { readFile } from 'node:fs/promises'
import { startFakeKubeApi, type FakeKubeApi, type FakeKubeApiOptions, type KubeObject } from '../kube-api/index.ts'
import type { WatchEvent } from '../kube-api/store.ts'

interface Teardown { teardown (fn: () => unknown): void }

export interface Reply { status: number, body: any, text: string, headers: Headers }
export type Call = (method: string, path: string, body?: unknown, contentType?: string) => Promise<Reply>

export async function fake (t: Teardown, opts: FakeKubeApiOptions = {}): Promise<{ kube: FakeKubeApi, call: Call, token: string }> {
  const kube = await startFakeKubeApi({ namespaces: ['toygres'], ...opts })
  t.teardown(() => kube.close())
  const token = /token: (\w+)/.exec(await readFile(kube.kubeconfigPath, 'utf8'))![1]!
  const call: Call = async (method, path, body, contentType = 'application/json') => {
    const res = await fetch(kube.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {})
    })
    const text = await res.text()
    let parsed: any
    try { parsed = JSON.parse(text) } catch { parsed = undefined }
    return { status: res.status, body: parsed, text, headers: res.headers }
  }
  return { kube, call, token }
}

/** Resolves with the first store state for which `check` returns a value; every change is looked at. */
export function until<T> (kube: FakeKubeApi, check: () => T | undefined | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const store = kube.state.store
  return new Promise((resolve, reject) => {
    let stop = (): void => {}
    const timer = setTimeout(() => { stop(); reject(new Error(`timed out waiting for ${what}`)) }, timeoutMs)
    const look = (): boolean => {
      const v = check()
      if (v === undefined || v === false) return false
      clearTimeout(timer)
      stop()
      resolve(v as T)
      return true
    }
    if (look()) return
    stop = store.subscribe(store.resourceVersion, () => { look() })
  })
}

/** Every store event of `resource` from now on, for asserting a sequence afterwards. */
export function record (kube: FakeKubeApi, resource: string, name?: string): WatchEvent[] {
  const seen: WatchEvent[] = []
  kube.state.store.subscribe(kube.state.store.resourceVersion, e => {
    if (e.resource === resource && (name === undefined || e.object.metadata.name === name)) seen.push(e)
  })
  return seen
}

export const podState = (pod: KubeObject | undefined): string => {
  if (!pod) return 'gone'
  const cs = pod.status?.containerStatuses?.[0]
  const sched = pod.status?.conditions?.find((c: any) => c.type === 'PodScheduled')
  if (!cs) return sched?.status === 'False' ? `Unschedulable` : `${pod.status?.phase ?? 'new'}`
  const s = cs.state ?? {}
  if (s.waiting) return s.waiting.reason
  if (s.running) return cs.ready ? 'Ready' : 'Running'
  if (s.terminated) return `Terminated(${s.terminated.exitCode})`
  return '?'
}

/** Collapses consecutive duplicates: the sequence of distinct states. */
export const distinct = (xs: string[]): string[] => xs.filter((x, i) => i === 0 || xs[i - 1] !== x)

export const reasons = (kube: FakeKubeApi, ns: string, name: string, kind?: string): string[] =>
  kube.kubeEvents(ns, name, kind).map(e => `${e.type} ${e.reason}`)

/** A StatefulSet like the provisioner's, but independent of it (the fake is tested on its own). */
export function statefulSet (name: string, over: { image?: string, replicas?: number, args?: string[], env?: any[], volumes?: any[], volumeMounts?: any[], securityContext?: any, storageClassName?: string } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: over.replicas ?? 1,
      serviceName: `${name}-headless`,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          securityContext: over.securityContext ?? { runAsUser: 999, runAsGroup: 999, fsGroup: 999 },
          containers: [{
            name: 'postgres',
            image: over.image ?? 'postgres:18',
            ...(over.args ? { args: over.args } : {}),
            ports: [{ name: 'postgresql', containerPort: 5432 }],
            env: over.env ?? [
              { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: `${name}-credentials`, key: 'password' } } },
              { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' }
            ],
            volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }, ...(over.volumeMounts ?? [])]
          }],
          ...(over.volumes ? { volumes: over.volumes } : {})
        }
      },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(over.storageClassName ? { storageClassName: over.storageClassName } : {}) } }]
    }
  }
}

export const secret = (name: string, data: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data })

export const configMap = (name: string, data: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data })

export const loadBalancer = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'postgresql', port: 5432, targetPort: 'postgresql' }], ...extra }
})
