// The same user path with the Kubernetes provisioner, against the fake API
// server on its realistic profile (real HTTP, reached through a kubeconfig;
// volumes, pulls and load balancers that take their time; pods backed by
// real PostgreSQL processes on 127.0.0.x), plus failure with compensation.
import { execFile } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'
import t from 'tap'
import { activityNames as activities } from '../../src/activities/names.ts'
import { startFakeKubeApi } from '../fakes/kube-api/index.ts'
import { buildTestApp } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'

const run = promisify(execFile)

const instanceObjects = (kube: Awaited<ReturnType<typeof startFakeKubeApi>>, name: string) =>
  ['secrets', 'configmaps', 'services', 'statefulsets', 'pods', 'persistentvolumeclaims']
    .flatMap(r => kube.state.list(r, 'toygres'))
    .filter(o => o.metadata?.labels?.['app.kubernetes.io/instance'] === name)

const kubeEnv = (kubeconfig: string): Record<string, string> => ({ TOYGRES_PROVISIONER: 'kubernetes', KUBECONFIG: kubeconfig, TOYGRES_WORKER_CONCURRENCY: '2' })

t.test('create → running → connect over verified TLS → delete on Kubernetes', { timeout: 180_000 }, async t => {
  const kube = await startFakeKubeApi({ profile: 'realistic', realPostgres: true, nodes: [{ name: 'node-1', region: 'westeurope' }] })
  t.teardown(() => kube.close())
  const app = await buildTestApp(t, kubeEnv(kube.kubeconfigPath))

  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'k8s-db', postgres_version: '17', dns_label: 'k8s-db-demo' } })
  t.equal(created.statusCode, 202, created.body)
  const password = created.json().password as string
  const running = await pollUntil(async () => (await app.inject('/instances/k8s-db')).json(), i => i.state !== 'creating', { timeoutMs: 120_000 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  t.match(running.external_ip, /^127\./)
  t.equal(running.dns_name, 'k8s-db-demo.westeurope.cloudapp.azure.com')
  t.match(running.ip_connection_string, /^postgresql:\/\/postgres@127\.[\d.]+:5432\/postgres\?sslmode=require$/)
  t.notOk(JSON.stringify(instanceObjects(kube, 'k8s-db').filter(o => o.kind !== 'Secret')).includes(password), 'the password lives only in the Secret')

  const ca = (await app.inject('/instances/k8s-db/ca-certificate')).body
  const url = new URL(running.ip_connection_string)
  const client = new pg.Client({ host: url.hostname, port: 5432, user: 'postgres', password, database: 'postgres', ssl: { ca, checkServerIdentity: () => undefined } })
  await client.connect()
  t.same((await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows, [{ ssl: true }], 'TLS, verified against the served CA')
  await client.end()

  t.equal((await app.inject({ method: 'DELETE', url: '/instances/k8s-db' })).statusCode, 202)
  await pollUntil(async () => (await app.inject('/instances/k8s-db')).statusCode, s => s === 404, { timeoutMs: 60_000 })
  t.same(instanceObjects(kube, 'k8s-db'), [], 'every object is gone, PVCs included')
  t.equal(kube.state.backing.size, 0, 'the backing server is gone')
})

t.test('an image the registry does not have: failed at wait-for-ready, after a few pulls, and nothing orphaned', { timeout: 120_000 }, async t => {
  const kube = await startFakeKubeApi({ profile: 'realistic', neverPulls: ['postgres:16'] })
  t.teardown(() => kube.close())
  const app = await buildTestApp(t, kubeEnv(kube.kubeconfigPath))
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'no-pull', postgres_version: '16' } })).statusCode, 202)
  const failed = await pollUntil(async () => (await app.inject('/instances/no-pull')).json(),
    i => i.state === 'failed' && i.operation?.status === 'failed', { timeoutMs: 60_000 })
  t.equal(failed.error.step, activities.WAIT_FOR_READY)
  t.match(failed.error.message, /image postgres:16 cannot be pulled: the registry answered "not found" to 3 pulls/)
  t.same(instanceObjects(kube, 'no-pull'), [], 'compensation removed every object')
})

t.test('cancelling a slow create: it ends cancelled, the instance failed, every object gone; then it can be deleted', { timeout: 120_000 }, async t => {
  // A volume that never binds while the test runs: the create is held in wait-for-ready.
  const kube = await startFakeKubeApi({ profile: 'realistic', volumeBindingDelayMs: 10 * 60_000 })
  t.teardown(() => kube.close())
  const app = await buildTestApp(t, kubeEnv(kube.kubeconfigPath))
  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'slow', use_load_balancer: false } })
  t.equal(created.statusCode, 202)
  const op = created.json().operation.id
  await pollUntil(async () => (await app.inject('/instances/slow')).json(), i => /is not bound yet/.test(i.waiting_for ?? ''), { what: 'the create to wait for its volume', timeoutMs: 60_000 })
  t.ok(instanceObjects(kube, 'slow').length > 0, 'objects were made')

  const cancel = await app.inject({ method: 'POST', url: `/operations/${op}/cancel` })
  t.equal(cancel.statusCode, 202, cancel.body)
  const ended = await app.engine.waitFor(op, { timeoutMs: 60_000 })
  t.equal(ended.status, 'cancelled')
  const failed = (await app.inject('/instances/slow')).json()
  t.equal(failed.state, 'failed')
  t.same(instanceObjects(kube, 'slow'), [], 'compensation removed every object')
  t.equal((await app.inject({ method: 'POST', url: `/operations/${op}/cancel` })).statusCode, 409, 'an ended operation cannot be cancelled')

  t.equal((await app.inject({ method: 'DELETE', url: '/instances/slow' })).statusCode, 202)
  await pollUntil(async () => (await app.inject('/instances/slow')).statusCode, s => s === 404, { timeoutMs: 60_000 })
})

t.test('done when: volumes bound after 6 s, the load balancer\'s address after 4 s, the first two pulls throttled — running, and it said why it waited', { timeout: 180_000 }, async t => {
  const kube = await startFakeKubeApi({
    profile: 'realistic',
    realPostgres: true,
    volumeBindingDelayMs: 6000,
    loadBalancerDelayMs: 4000,
    pullFailures: { count: 2 },
    // The kubelet's real back-off starts at 10 s; 1 s keeps the test short while the
    // pull phase still outlasts the engine's one progress write per second.
    backoffBaseMs: 1000
  })
  t.teardown(() => kube.close())
  const app = await buildTestApp(t, kubeEnv(kube.kubeconfigPath))
  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'done', allowed_cidrs: ['127.0.0.1/32'] } })
  t.equal(created.statusCode, 202, created.body)
  const password = created.json().password as string

  const said = new Set<string>()
  const running = await pollUntil(async () => {
    const i = (await app.inject('/instances/done')).json()
    if (i.waiting_for) said.add(i.waiting_for)
    return i
  }, i => i.state !== 'creating', { timeoutMs: 120_000, intervalMs: 100 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  const shown = [...said]
  t.comment(`waiting_for, in order: ${shown.join(' | ')}`)
  t.ok(shown.some(s => /^PersistentVolumeClaim data-done-0 is not bound yet/.test(s)), 'the volume')
  t.ok(shown.some(s => /load balancer's address/.test(s)), 'the load balancer')
  t.ok(shown.some(s => /^pulling postgres:18: 429 Too Many Requests, retrying/.test(s)), 'the throttled pull')
  t.same(kube.state.get('services', 'toygres', 'done')!.spec.loadBalancerSourceRanges, ['127.0.0.1/32'], 'allowed_cidrs on the Service')

  const dir = await mkdtemp(join(tmpdir(), 'toygres-ca-'))
  const caFile = join(dir, 'ca.crt')
  await writeFile(caFile, (await app.inject('/instances/done/ca-certificate')).body)
  const psql = (sslmode: string) => run('psql', [`host=${running.external_ip} port=5432 user=postgres dbname=postgres sslmode=${sslmode} sslrootcert=${caFile} connect_timeout=10`, '-At', '-c', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], { env: { ...process.env, PGPASSWORD: password } })
  t.equal((await psql('verify-ca')).stdout.trim(), 't', 'psql sslmode=verify-ca with the served CA connects, over TLS')
  const refused = await psql('disable').then(() => ({ stderr: 'connected' }), (err: { stderr: string }) => err)
  t.match(refused.stderr, /no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres", database "postgres", no encryption/, 'sslmode=disable is refused')
})
