// Least privilege, derived: the rights each role needs are the requests the
// control plane really makes against the fake cluster (as the API server's
// RequestInfo resolves them), and the rights deploy/ grants must be exactly
// those: a request no rule allows is a missing right, a rule no request
// uses is one too many. The needs come from
//   - every method of the Kubernetes provisioner, replayed (a method that
//     still says "not available yet" makes no request; when it lands, its
//     requests count, and this test says what the Role lacks);
//   - the real app in its two roles, an API process and a worker process on
//     one database, each behind its own recording proxy, driven through
//     every route of the API.
import { pino } from 'pino'
import t, { type Test } from 'tap'
import { createKubernetesProvisioner } from '../../src/provisioners/kubernetes/provisioner.ts'
import { PermanentProvisionerError, type Provisioner } from '../../src/provisioners/provisioner.ts'
import { startFakeKubeApi, type RequestRecord } from '../fakes/kube-api/index.ts'
import { buildTestApp } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { deployInput, INSTANCE_ID, never } from '../provisioners/kubernetes/helpers.ts'
import { recordingProxy } from './kube-proxy.ts'
import { compare, grantsOf, type Subject } from './rbac-model.ts'
import { hasKubectl, render, type KubeObject } from './render.ts'

const silent = pino({ level: 'silent' })
const NOT_YET = /is not available on the Kubernetes provisioner yet$/

/** The ServiceAccount of the Deployment of `role` (api, worker). */
function subjectOf (objects: KubeObject[], role: string): Subject {
  const d = objects.find(o => o.kind === 'Deployment' && o.spec.template.metadata.labels['app.kubernetes.io/component'] === role)!
  return { namespace: d.metadata.namespace!, name: d.spec.template.spec.serviceAccountName }
}

/** The namespace the one-namespace layout gives the workers' instance rights in. */
function managedNamespace (objects: KubeObject[], worker: Subject): string {
  const bindings = objects.filter(o => o.kind === 'RoleBinding' && o.subjects.some((s: Subject) => s.name === worker.name && s.namespace === worker.namespace))
  if (bindings.length !== 1) throw new Error(`expected one RoleBinding for the workers, found ${bindings.length}`)
  return bindings[0]!.metadata.namespace!
}

interface Replay { requests: RequestRecord[], notYet: string[] }

/**
 * Every provisioner method once, in an instance's order of life, against a
 * fresh fake cluster; `exists`: whether the instance's namespace is there
 * before (as deploy/ makes it) or must be created.
 *
 * Every wait really waits, whatever the machine's speed or the way the
 * provisioner waits (watch or poll): a pod runs only once the provisioner
 * has looked at pods (kubelet: 'manual'), the load balancer gets its address
 * only then, and each object being deleted is held by a finalizer until the
 * provisioner looks at it after deleting. The first look always sees the
 * object unchanged (the fake answers it in the same tick it records it),
 * so a second one, the wait, must follow. A wait that a fast cluster
 * happened to skip would otherwise leave its requests out of the needs.
 */
async function replayProvisioner (t: Test, namespace: string, exists: boolean): Promise<Replay> {
  const kube = await startFakeKubeApi({ kubelet: 'manual', loadBalancer: 'none', nodes: [{ name: 'node-1', region: 'westeurope' }], namespaces: exists ? [namespace] : [] })
  t.teardown(() => kube.close())
  const p: Provisioner = createKubernetesProvisioner({ kubeconfigPath: kube.kubeconfigPath, logger: silent, controlPlaneId: 'rbac' })
  const held: Array<[string, string]> = [['secrets', 'orders-credentials'], ['services', 'orders'], ['services', 'orders-headless'],
    ['statefulsets', 'orders'], ['persistentvolumeclaims', 'data-orders-0'], ['pods', 'orders-0']]
  const reads = new Set(['get', 'list', 'watch'])
  // What unblocks each wait, once the provisioner has looked (after deleting, for a delete); false: not yet (try again).
  const nudges: Record<string, Array<{ resource: string, afterDelete: boolean, act: () => Promise<boolean> | boolean }>> = {
    getConnectionStrings: [{
      resource: 'services',
      afterDelete: false,
      act: () => { kube.state.store.update('services', namespace, 'orders', s => { s.status = { loadBalancer: { ingress: [{ ip: '127.0.0.250' }] } } }); return true }
    }],
    deletePostgres: held.map(([resource, name]) => ({ resource, afterDelete: true, act: () => { if (kube.state.get(resource, namespace, name)) kube.release(resource, namespace, name); return true } }))
  }
  /**
   * Runs `call`, acting on each of the phase's nudges once its condition
   * shows in the request log; in every phase, a pod that nobody runs yet
   * (made by the StatefulSet controller, for a create, a restart or a
   * start) is run once the provisioner has looked at pods.
   */
  async function nudged (phase: string, call: () => Promise<unknown>): Promise<void> {
    const pending = [...(nudges[phase] ?? [])]
    const from = kube.requests.length
    let podLooks = 0
    let settled = false
    const done = call().finally(() => { settled = true })
    done.catch(() => {}) // handled below, once the loop ends; not an unhandled rejection meanwhile
    while (!settled) {
      const log = kube.requests.slice(from).filter(r => r.namespace === namespace || r.resource === 'namespaces')
      const looks = log.filter(r => reads.has(r.verb) && r.resource === 'pods').length
      const pod = kube.state.get('pods', namespace, 'orders-0')
      if (looks > podLooks && pod && !pod.metadata.deletionTimestamp && !(pod.status?.conditions ?? []).some((c: { type: string }) => c.type === 'PodScheduled')) {
        podLooks = looks
        await kube.startPod(namespace, 'orders-0')
      }
      for (const n of [...pending]) {
        const firstDelete = log.findIndex(r => r.verb === 'delete')
        const looked = log.some((r, i) => reads.has(r.verb) && r.resource === n.resource && (!n.afterDelete || (firstDelete >= 0 && i > firstDelete)))
        if (looked && await n.act()) pending.splice(pending.indexOf(n), 1)
      }
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await done
  }
  const signal = new AbortController().signal
  const ref = { namespace, instance_name: 'orders', instance_id: INSTANCE_ID }
  const wait = { ...ref, timeout_seconds: 60 }
  // The DNS label makes the region come from the nodes (no TOYGRES_K8S_REGION).
  const calls: Record<string, () => Promise<unknown>> = {
    unreachableReason: () => p.unreachableReason(signal),
    supportedVersions: () => p.supportedVersions(),
    serverNames: () => p.serverNames({ namespace, instance_name: 'orders', dns_label: 'orders-db' }),
    deployPostgres: () => p.deployPostgres(deployInput({ namespace, dns_label: 'orders-db' }), never()),
    waitForReady: () => p.waitForReady(wait, never()),
    getConnectionStrings: async () => {
      await p.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: 'orders-db', timeout_seconds: 60 }, never())
      await p.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never())
    },
    restartPostgres: () => p.restartPostgres(wait, never()),
    stopPostgres: () => p.stopPostgres(wait, never()),
    startPostgres: () => p.startPostgres(wait, never()),
    recoverPostgres: () => p.recoverPostgres(ref, never()),
    setPassword: () => p.setPassword({ ...ref, password: 'another-password' }, never()),
    resizeStorage: () => p.resizeStorage({ ...ref, storage_size_gb: 20, timeout_seconds: 600 }, never()),
    applyLabels: () => p.applyLabels({ ...ref, labels: { team: 'payments' } }, never()),
    applyNetwork: () => p.applyNetwork({ ...ref, allowed_cidrs: ['10.0.0.0/8'] }, never()),
    readLogs: async () => { for await (const line of p.readLogs({ ...ref, tail: 5, follow: false }, signal)) void line },
    deletePostgres: () => {
      for (const [resource, name] of held) kube.hold(resource, namespace, name)
      return p.deletePostgres({ ...ref, timeout_seconds: 60 }, never())
    },
    close: () => p.close()
  }
  const methods = Object.keys(p).filter(k => typeof (p as unknown as Record<string, unknown>)[k] === 'function')
  t.same(methods.filter(m => !(m in calls)), [], 'every provisioner method is replayed (add a new one here)')
  const notYet: string[] = []
  for (const [name, call] of Object.entries(calls)) {
    const t0 = Date.now()
    try {
      await nudged(name, call)
      if (Date.now() - t0 > 500) t.comment(`${name}: ${Date.now() - t0} ms`)
    } catch (err) {
      if (!(err instanceof PermanentProvisionerError && NOT_YET.test(err.message))) throw err
      notYet.push(name)
    }
  }
  for (const [phase, list] of Object.entries(nudges)) t.comment(`${phase} waited for ${list.map(n => n.resource).join(', ')}`)
  return { requests: [...kube.requests], notYet }
}

/** A pod that never gets Ready (its container crash-loops): the failure path of wait-for-ready, then the compensation. */
async function replayCrashLoop (t: Test, namespace: string): Promise<RequestRecord[]> {
  const kube = await startFakeKubeApi({ namespaces: [namespace], crashes: ['crashy/postgres:17'] })
  t.teardown(() => kube.close())
  const p = createKubernetesProvisioner({ kubeconfigPath: kube.kubeconfigPath, logger: silent, controlPlaneId: 'rbac', image: 'crashy/postgres' })
  const ref = { namespace, instance_name: 'orders', instance_id: INSTANCE_ID }
  await p.deployPostgres(deployInput({ namespace }), never())
  await t.rejects(p.waitForReady({ ...ref, timeout_seconds: 60 }, never()), 'a crash-looping pod fails wait-for-ready')
  await p.deletePostgres({ ...ref, timeout_seconds: 60 }, never())
  return [...kube.requests]
}

/**
 * The app in its two roles on one database and one fake cluster, each
 * process behind its own recording proxy; every route of the API is called
 * through the API process, and every operation it starts is waited out.
 */
async function runRoles (t: Test, namespace: string): Promise<{ api: RequestRecord[], worker: RequestRecord[] }> {
  const kube = await startFakeKubeApi({ realPostgres: true, nodes: [{ name: 'node-1', region: 'westeurope' }], namespaces: [namespace] })
  t.teardown(() => kube.close())
  const [apiProxy, workerProxy] = [await recordingProxy(kube), await recordingProxy(kube)]
  t.teardown(() => Promise.all([apiProxy.close(), workerProxy.close()]))
  const databaseUrl = await createTestDatabase(t)
  // The fake cluster's pods are servers on loopback: the control plane connects from there.
  const env = { TOYGRES_PROVISIONER: 'kubernetes', TOYGRES_K8S_CONTROL_PLANE_CIDRS: '127.0.0.0/8', TOYGRES_READY_TIMEOUT_SECONDS: '60', TOYGRES_LOAD_BALANCER_TIMEOUT_SECONDS: '60', TOYGRES_DELETE_TIMEOUT_SECONDS: '60' }
  const api = await buildTestApp(t, { ...env, KUBECONFIG: apiProxy.kubeconfigPath, TOYGRES_WORKER_CONCURRENCY: '0' }, { databaseUrl })
  await buildTestApp(t, { ...env, KUBECONFIG: workerProxy.kubeconfigPath, TOYGRES_WORKER_CONCURRENCY: '2' }, { databaseUrl })
  const base = await api.listen({ port: 0, host: '127.0.0.1' })

  const called = new Set<string>()
  const call = async (operationId: string, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> => {
    called.add(operationId)
    const res = await fetch(base + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
    const text = await res.text()
    t.ok(res.status < 500, `${operationId}: ${method} ${path} → ${res.status} ${res.status >= 500 ? text : ''}`)
    return { status: res.status, json: text.startsWith('{') ? JSON.parse(text) : text }
  }
  const stream = async (operationId: string, path: string): Promise<void> => {
    called.add(operationId)
    const stop = new AbortController()
    const res = await fetch(base + path, { signal: stop.signal })
    t.equal(res.status, 200, `${operationId}: ${path} streams`)
    await res.body!.getReader().read()
    stop.abort()
  }
  const settled = async (operationId: string | undefined): Promise<void> => {
    if (!operationId) return
    await pollUntil(async () => (await fetch(`${base}/operations/${operationId}`)).json(), (op: any) => ['succeeded', 'failed', 'cancelled'].includes(op.status), { what: `operation ${operationId}`, timeoutMs: 90_000 })
  }
  const name = 'rbac-db'
  const instance = `/instances/${name}`

  await call('getLiveness', 'GET', '/healthz')
  t.equal((await call('getReadiness', 'GET', '/readyz')).status, 200, 'the API is ready: it reached the Kubernetes API')
  // The stream of every instance says nothing until something happens: opened before the create, read after it.
  const allEvents = stream('streamAllInstanceEvents', '/events')
  const created = await call('createInstance', 'POST', '/instances', { name, namespace, postgres_version: '17', use_load_balancer: true, dns_label: 'rbac-db-demo' })
  t.equal(created.status, 202)
  const running: any = await pollUntil(async () => (await fetch(base + instance)).json(), (i: any) => i.state !== 'creating', { what: 'running', timeoutMs: 120_000 })
  await call('getInstance', 'GET', instance)
  t.equal(running.state, 'running', JSON.stringify(running.error))
  await call('listInstances', 'GET', '/instances')
  await call('getInstanceCaCertificate', 'GET', `${instance}/ca-certificate`)
  await call('getInstanceHealth', 'GET', `${instance}/health`)
  await call('listInstanceOperations', 'GET', `${instance}/operations`)
  await call('listOperations', 'GET', `/operations?instance=${name}`)
  await call('getOperation', 'GET', `/operations/${created.json.operation.id}`)
  await call('getMetrics', 'GET', '/metrics')
  await stream('streamInstanceEvents', `${instance}/events`)
  await allEvents
  t.equal((await call('getInstanceLogs', 'GET', `${instance}/logs?tail=5`)).status, 200, 'the server log, through pods/log')
  // The batch routes make the same provisioner calls as one create or delete: a bad body shows they need nothing more.
  t.equal((await call('createInstances', 'POST', '/instances/batch', { items: [] })).status, 400)
  t.equal((await call('deleteInstances', 'POST', '/instances/batch-delete', { names: [] })).status, 400)
  // Day-2, one change at a time, each waited out (it may fail where the provisioner is not there yet).
  for (const patch of [{ labels: { team: 'payments' } }, { storage_size_gb: 20 }, { allowed_cidrs: ['10.0.0.0/8'] }, { parameters: { work_mem: '8MB' } }]) {
    await settled((await call('updateInstance', 'PATCH', instance, patch)).json.operation?.id)
  }
  for (const action of ['restart', 'stop', 'start', 'reset-password']) {
    const operationId = { restart: 'restartInstance', stop: 'stopInstance', start: 'startInstance', 'reset-password': 'resetPassword' }[action]!
    await settled((await call(operationId, 'POST', `${instance}/${action}`, action === 'reset-password' ? {} : undefined)).json.operation?.id)
  }
  await call('cancelOperation', 'POST', `/operations/${created.json.operation.id}/cancel`)
  const deleted = await call('deleteInstance', 'DELETE', instance)
  t.equal(deleted.status, 202, JSON.stringify(deleted.json))
  await pollUntil(async () => (await fetch(base + instance)).status, s => s === 404, { what: 'deleted', timeoutMs: 90_000 })

  const document = api.swagger() as { paths: Record<string, Record<string, { operationId?: string }>> }
  const routes = Object.values(document.paths).flatMap(p => Object.values(p).map(o => o.operationId!))
  t.same(routes.filter(r => !called.has(r)), [], 'every route of the API was called (add a new one here)')
  return { api: [...apiProxy.requests], worker: [...workerProxy.requests] }
}

t.setTimeout(420_000)

t.test('each role is granted exactly what it uses, in both layouts', { skip: hasKubectl() ? false : 'kubectl is not installed', timeout: 400_000 }, async t => {
  const oneNamespace = render('.')
  const clusterWide = render('cluster-wide/')
  const api = subjectOf(oneNamespace, 'api')
  const worker = subjectOf(oneNamespace, 'worker')
  const managed = managedNamespace(oneNamespace, worker)

  const started = Date.now()
  const existing = await replayProvisioner(t, managed, true)
  const fresh = await replayProvisioner(t, 'shop', false)
  t.comment(`provisioner methods not available yet (no requests): ${existing.notYet.join(', ') || 'none'}`)
  const crash = await replayCrashLoop(t, managed)
  t.comment(`replays: ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const roles = await runRoles(t, managed)
  t.comment(`both roles through every route: ${((Date.now() - started) / 1000).toFixed(1)} s`)

  // A worker also answers /readyz (its readiness probe), so it needs what the API needs.
  const workerNeeds = [...existing.requests, ...crash, ...roles.worker, ...roles.api]
  const layouts = [
    { layout: 'one namespace (deploy/)', objects: oneNamespace, worker: workerNeeds },
    { layout: 'any namespace (deploy/cluster-wide/)', objects: clusterWide, worker: [...workerNeeds, ...fresh.requests] }
  ]
  for (const { layout, objects, worker: needs } of layouts) {
    t.same(subjectOf(objects, 'api'), api)
    t.same(subjectOf(objects, 'worker'), worker)
    t.same(compare(grantsOf(objects, api), roles.api), { missing: [], unused: [] }, `${layout}: the API replicas (${api.name})`)
    t.same(compare(grantsOf(objects, worker), needs), { missing: [], unused: [] }, `${layout}: the workers (${worker.name})`)
  }
  // What the one-namespace layout cannot do, by design: an instance in a namespace it does not manage.
  t.ok(compare(grantsOf(oneNamespace, worker), fresh.requests).missing.some(m => m.startsWith('create core/namespaces')), 'one namespace: creating another namespace is not granted')
})
