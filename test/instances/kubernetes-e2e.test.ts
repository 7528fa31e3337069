// The same user path with the Kubernetes provisioner, against the fake API
// server (real HTTP, reached through a kubeconfig; pods backed by real
// PostgreSQL processes on 127.0.0.x), plus failure with compensation.
import pg from 'pg'
import t from 'tap'
import { activityNames as activities } from '../../src/activities/names.ts'
import { startFakeKubeApi } from '../fakes/kube-api/index.ts'
import { buildTestApp } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'

const instanceObjects = (kube: Awaited<ReturnType<typeof startFakeKubeApi>>, name: string) =>
  ['secrets', 'services', 'statefulsets', 'pods', 'persistentvolumeclaims']
    .flatMap(r => kube.state.list(r, 'toygres'))
    .filter(o => o.metadata?.labels?.['app.kubernetes.io/instance'] === name)

t.test('create → running → connect → delete on Kubernetes', async t => {
  const kube = await startFakeKubeApi({ realPostgres: true, nodes: [{ name: 'node-1', region: 'westeurope' }] })
  t.teardown(() => kube.close())
  const app = await buildTestApp(t, { TOYGRES_PROVISIONER: 'kubernetes', KUBECONFIG: kube.kubeconfigPath, TOYGRES_WORKER_CONCURRENCY: '2' })

  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'k8s-db', postgres_version: '17', dns_label: 'k8s-db-demo' } })
  t.equal(created.statusCode, 202, created.body)
  const password = created.json().password as string
  const running = await pollUntil(async () => (await app.inject('/instances/k8s-db')).json(), i => i.state !== 'creating', { timeoutMs: 120_000 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  t.match(running.external_ip, /^127\./)
  t.equal(running.dns_name, 'k8s-db-demo.westeurope.cloudapp.azure.com')
  t.match(running.ip_connection_string, /^postgresql:\/\/postgres@127\.[\d.]+:5432\/postgres$/)
  t.notOk(JSON.stringify(instanceObjects(kube, 'k8s-db').filter(o => o.kind !== 'Secret')).includes(password), 'the password lives only in the Secret')

  const url = new URL(running.ip_connection_string)
  url.password = encodeURIComponent(password)
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  t.equal((await client.query('SELECT 1 AS one')).rows[0].one, 1)
  await client.end()

  t.equal((await app.inject({ method: 'DELETE', url: '/instances/k8s-db' })).statusCode, 202)
  await pollUntil(async () => (await app.inject('/instances/k8s-db')).statusCode, s => s === 404, { timeoutMs: 60_000 })
  t.same(instanceObjects(kube, 'k8s-db'), [], 'every object is gone, PVCs included')
  t.equal(kube.state.backing.size, 0, 'the backing server is gone')
})

t.test('an image that never pulls: failed at wait-for-ready, fast, and nothing orphaned', async t => {
  const kube = await startFakeKubeApi({ neverPulls: ['postgres:16'] })
  t.teardown(() => kube.close())
  const app = await buildTestApp(t, { TOYGRES_PROVISIONER: 'kubernetes', KUBECONFIG: kube.kubeconfigPath, TOYGRES_WORKER_CONCURRENCY: '2' })
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'no-pull', postgres_version: '16' } })).statusCode, 202)
  const failed = await pollUntil(async () => (await app.inject('/instances/no-pull')).json(),
    i => i.state === 'failed' && i.operation?.status === 'failed', { timeoutMs: 60_000 })
  t.equal(failed.error.step, activities.WAIT_FOR_READY)
  t.match(failed.error.message, /ErrImagePull|ImagePullBackOff/)
  t.same(instanceObjects(kube, 'no-pull'), [], 'compensation removed every object')
})
