// No instance is stuck for good. With a Kubernetes cluster that cannot be
// reached, /readyz says so and which API it tried, a new create is refused
// (503, nothing made), and an instance that can never finish can be
// forgotten (DELETE ?force=true), which records what may remain and frees
// the name at once. An instance whose operation ended
// without moving it on (a worker's job given up on) is settled by
// housekeeping into a state the user can act on: a delete that failed is
// delete_failed, and a new DELETE starts a new delete.
import t from 'tap'
import { housekeeping } from '../../src/instances/housekeeping.ts'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'
import { startFakeKubeApi } from '../fakes/kube-api/index.ts'

t.test('a cluster that goes away: readiness says why, creates are refused with the reason, a hopeless instance can be forgotten', async t => {
  const env = await localProvisionerEnv(t)
  // A volume that never binds while the test runs: the create waits in wait-for-ready.
  const kube = await startFakeKubeApi({ profile: 'realistic', volumeBindingDelayMs: 10 * 60_000 })
  let closed = false
  t.teardown(async () => { if (!closed) await kube.close() })
  const app = await buildTestApp(t, { ...env, TOYGRES_PROVISIONER: 'kubernetes', KUBECONFIG: kube.kubeconfigPath, TOYGRES_WORKER_CONCURRENCY: '2' })
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'hopeless', use_load_balancer: false } })).statusCode, 202)
  await pollUntil(async () => (await app.inject('/instances/hopeless')).json(), i => /is not bound yet/.test(i.waiting_for ?? ''), { what: 'the create to wait for its volume', timeoutMs: 60_000 })
  await kube.close()
  closed = true

  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json().detail, new RegExp(`Kubernetes API at http://127\\.0\\.0\\.1:\\d+ \\(from KUBECONFIG=${kube.kubeconfigPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, context [^)]+\\) is not reachable: .*ECONNREFUSED`))

  const refused = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'another' } })
  t.equal(refused.statusCode, 503, 'a create that could only fail is refused, and nothing is made')
  t.equal(refused.headers['retry-after'], '5')
  t.match(refused.json().detail, /instances cannot be created now: the kubernetes platform cannot be reached: .*ECONNREFUSED/)
  t.equal((await app.inject('/instances/another')).statusCode, 404)

  const forgotten = await app.inject({ method: 'DELETE', url: '/instances/hopeless?force=true' })
  t.equal(forgotten.statusCode, 200)
  t.match(forgotten.json(), { name: 'hopeless', forgotten: true, may_remain: Array })
  t.equal((await app.inject('/instances/hopeless')).statusCode, 404, 'gone from the API, the name free')
  const { rows } = await app.db.query('SELECT name, provisioner, state FROM toygres.forgotten_instances')
  t.same(rows, [{ name: 'hopeless', provisioner: 'kubernetes', state: 'creating' }], 'and recorded, for an operator')
})

t.test('an instance left in transition by an ended operation is settled; a failed delete can be tried again', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env })
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'orphaned', use_load_balancer: false } })).statusCode, 202)
  const del = await app.inject({ method: 'DELETE', url: '/instances/orphaned' })
  t.equal(del.statusCode, 202)
  // The delete's operation ends without its own failure path running (as when pg-boss gives up on its job).
  await app.db.query("UPDATE toygres.operations SET status = 'failed', error = '{\"message\":\"gave up\",\"code\":\"abandoned\"}', finished_at = now(), lease = NULL WHERE id = $1", [del.json().operation.id])
  await app.db.query('DELETE FROM toygres.operation_keys')
  const pass = await housekeeping({ ...app.monitors.deps, log: app.log, intervalMs: 30_000, timeoutMs: 5000, retentionHours: 24, operationRetentionHours: 24 })
  t.equal(pass.settled, 1)
  const stuck = (await app.inject('/instances/orphaned')).json()
  t.match(stuck, { state: 'delete_failed', error: { message: /delete-instance operation ended \(failed: gave up\)/ } })
  const again = await app.inject({ method: 'DELETE', url: '/instances/orphaned' })
  t.equal(again.statusCode, 202, 'a new DELETE starts a new delete')
  t.not(again.json().operation.id, del.json().operation.id)
  t.equal(again.json().state, 'deleting')
})
