// Pods that cannot become ready fail with their reason, long before the
// timeout; API refusals and bad specs surface as clear, permanent errors.
import t from 'tap'
import { PermanentProvisionerError } from '../../../src/provisioners/provisioner.ts'
import type { FakeKubeApiOptions } from '../../fakes/kube-api/index.ts'
import { deployInput, harness, never, INSTANCE_ID, ctxOf } from './helpers.ts'

const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID }
// Far beyond the test's own timeout: passing means the failure was seen, not waited out.
const LONG = { ...ref, timeout_seconds: 3600 }

for (const [name, fake, image, reason] of [
  ['an image that never pulls', { neverPulls: ['registry.invalid/postgres'] }, 'registry.invalid/postgres', /ErrImagePull|ImagePullBackOff/],
  ['a container that crashes', { crashes: ['crashy/postgres'] }, 'crashy/postgres', /CrashLoopBackOff/],
  ['an image name that is not valid', {}, 'Not_A/Valid', /InvalidImageName/],
  ['a pod no node can take', { unschedulable: true }, 'postgres', /Unschedulable: 0\/1 nodes are available/]
] as const) {
  t.test(`${name} fails fast with the reason`, { timeout: 20_000 }, async t => {
    const { provisioner, logs } = await harness(t, fake as FakeKubeApiOptions, { image })
    await provisioner.deployPostgres(deployInput(), never())
    const err = await provisioner.waitForReady(LONG, never()).catch((e: unknown) => e) as Error
    t.type(err, PermanentProvisionerError)
    t.match(err.message, reason)
    t.match(err.message, 'toygres/orders-0')
    t.notOk(logs.join('').includes(deployInput().password))
  })
}

t.test('a never-pulling image matched by its full reference', async t => {
  const { provisioner } = await harness(t, { neverPulls: ['postgres:17'] })
  await provisioner.deployPostgres(deployInput(), never())
  await t.rejects(provisioner.waitForReady(LONG, never()), { name: 'PermanentProvisionerError', message: /postgres:17/ })
})

t.test('a 422 from the API server is a clear, permanent error', async t => {
  const { kube, provisioner } = await harness(t)
  const err = await provisioner.deployPostgres(deployInput({ namespace: 'Bad_Namespace' }), never()).catch((e: unknown) => e) as Error
  t.type(err, PermanentProvisionerError)
  t.match(err.message, /create Namespace Bad_Namespace failed: Namespace "Bad_Namespace" is invalid: metadata\.name: Invalid value: "Bad_Namespace"/)
  t.match(err.message, /HTTP 422 Invalid/)
  t.equal(kube.state.list('namespaces').length, 1, 'only default')
})

t.test('an instance name that would not fit is refused before any call', async t => {
  const { kube, provisioner } = await harness(t)
  await t.rejects(provisioner.deployPostgres(deployInput({ instance_name: 'x'.repeat(41) }), never()), { name: 'PermanentProvisionerError', message: /at most 40 characters/ })
  await t.rejects(provisioner.deployPostgres(deployInput({ postgres_version: '12' }), never()), PermanentProvisionerError)
  t.same(kube.state.list('secrets'), [])
})

t.test('waiting for a pod honours the signal, whenever it comes', async t => {
  const { kube, provisioner } = await harness(t)
  const ac = new AbortController()
  const waiting = provisioner.waitForReady(LONG, ctxOf(ac.signal))
  setImmediate(() => ac.abort(new Error('cancelled by the operation')))
  await t.rejects(waiting, { message: 'cancelled by the operation' })
  // And once the watch is open.
  const later = new AbortController()
  kube.events.once('watch', () => later.abort(new Error('cancelled later')))
  await t.rejects(provisioner.waitForReady(LONG, ctxOf(later.signal)), { message: 'cancelled later' })
})

t.test('a load balancer that never gets an address: bounded wait, and abortable', async t => {
  const { provisioner } = await harness(t, { loadBalancer: 'none' })
  await provisioner.deployPostgres(deployInput(), never())
  const conn = { ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 1 }
  await t.rejects(provisioner.getConnectionStrings(conn, never()), { name: 'WaitTimeoutError', message: /no ingress IP or hostname/ })
  const ac = new AbortController()
  const waiting = provisioner.getConnectionStrings(conn, ctxOf(ac.signal))
  setImmediate(() => ac.abort(new Error('stop')))
  await t.rejects(waiting, { message: 'stop' })
})

t.test('connection strings for an instance that was never deployed', async t => {
  const { provisioner } = await harness(t)
  await t.rejects(provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 300 }, never()), { name: 'PermanentProvisionerError', message: /Service toygres\/orders not found/ })
})
