// Day-2 calls on a real server: restart, stop, start, recover, and the
// changes a local instance takes as records or as pg_hba.conf. Each is
// repeated (idempotent), and says what it did.
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { testConnection } from '../../../src/activities/test-connection.ts'
import { isAlive, livePid } from '../../../src/provisioners/local/server.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { ctxOf, deployInput, harness, never, pgdataOf, refOf, secretPassword, testTls } from './fixtures/helpers.ts'

const ref = refOf('ops')
const timed = { ...ref, timeout_seconds: 30 }

async function running (t: { teardown (fn: () => unknown): void }, portMin: number) {
  const h = await harness(t, portMin, portMin + 9)
  const password = secretPassword()
  await h.provisioner.deployPostgres(deployInput('ops', password), never)
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 10 }, never)
  const pgdata = pgdataOf(h.dataDir, 'ops')
  const meta = async () => JSON.parse(await readFile(join(h.dataDir, 'instances', 'toygres', 'ops', 'instance.json'), 'utf8'))
  const connects = async () => (await testConnection({ connection_string: url, password, ca_pem: testTls.ca_pem, timeout_seconds: 5 }, never.signal)).version
  return { h, pgdata, meta, connects }
}

t.test('restart: a new postmaster that accepts connections when it resolves', async t => {
  const { h, pgdata, connects } = await running(t, 27700)
  const before = (await livePid(pgdata))!
  const ctx = ctxOf(new AbortController().signal)
  const { process: pid } = await h.provisioner.restartPostgres(timed, ctx)
  t.not(pid, String(before), 'a new server process')
  t.equal(String(await livePid(pgdata)), pid, 'the pid it returned is the postmaster')
  t.notOk(isAlive(before), 'the old one is gone')
  t.match(await connects(), /^PostgreSQL 18/, 'accepts connections as soon as restart resolves')
  t.match(ctx.reports, [`fast shutdown of postmaster ${before}`, /^starting PostgreSQL 18\.\d+ on 127\.0\.0\.1:\d+$/], 'says what it waits for')

  // A server that died meanwhile: restart just starts one.
  process.kill(Number(pid), 'SIGKILL')
  await pollUntil(async () => isAlive(Number(pid)), alive => !alive, { what: 'the killed postmaster to die', timeoutMs: 10_000, intervalMs: 10 })
  const again = await h.provisioner.restartPostgres(timed, never)
  t.ok(isAlive(Number(again.process)))

  const aborted = new AbortController()
  aborted.abort(new Error('cancelled'))
  await t.rejects(h.provisioner.restartPostgres(timed, ctxOf(aborted.signal)), { message: 'cancelled' })
  t.equal(String(await livePid(pgdata)), again.process, 'a cancelled restart touched nothing')
})

t.test('stop is recorded, so recover never starts it; start clears that', async t => {
  const { h, pgdata, meta, connects } = await running(t, 27710)
  const pid = (await livePid(pgdata))!
  t.same(await h.provisioner.stopPostgres(timed, never), { changed: true, detail: `stopped postmaster ${pid} (fast shutdown); it stays stopped until started` })
  t.notOk(isAlive(pid))
  t.equal((await meta()).stopped_by_user, true, 'instance.json records that a user stopped it')
  t.same(await h.provisioner.stopPostgres(timed, never), { changed: false, detail: 'already stopped; it stays stopped until started' }, 'twice')
  t.equal(await h.provisioner.recoverPostgres(ref, never), false, 'health monitoring leaves a stopped instance stopped')
  t.equal(await h.reopen().recoverPostgres(ref, never), false, 'so does the next control plane')
  t.equal(await livePid(pgdata), undefined)
  await t.rejects(h.provisioner.waitForReady({ ...ref, timeout_seconds: 1 }, never), { name: 'PermanentProvisionerError', message: 'local instance toygres/ops was stopped by a user: start it first' })
  t.match(await h.provisioner.deployPostgres(deployInput('ops', secretPassword()), never), { created: [], existing: ['PortReservation/ops', 'DataDirectory/ops', 'Certificate/ops'] }, 'a redeploy leaves it stopped too')
  t.equal(await livePid(pgdata), undefined)

  const started = await h.provisioner.startPostgres(timed, never)
  t.match(started, { changed: true, detail: /^started postmaster \d+$/ })
  t.equal((await meta()).stopped_by_user, false)
  t.match(await connects(), /^PostgreSQL 18/, 'accepts connections as soon as start resolves')
  t.match(await h.provisioner.startPostgres(timed, never), { changed: false, detail: /^already running \(postmaster \d+\)$/ }, 'twice')
})

t.test('recover brings back only a server that died', async t => {
  const { h, pgdata, connects } = await running(t, 27720)
  t.equal(await h.provisioner.recoverPostgres(ref, never), false, 'running: nothing to do')
  const pid = (await livePid(pgdata))!
  process.kill(pid, 'SIGKILL')
  await pollUntil(async () => isAlive(pid), alive => !alive, { what: 'the killed postmaster to die', timeoutMs: 10_000, intervalMs: 10 })
  t.equal(await h.provisioner.recoverPostgres(ref, never), true, 'died: started')
  t.match(await connects(), /^PostgreSQL 18/)
  t.equal(await h.provisioner.recoverPostgres(refOf('never-made'), never), false, 'no such instance: nothing to do')
})

t.test('password, storage and labels: recorded, said plainly, idempotent', async t => {
  const { h, meta } = await running(t, 27730)
  t.same(await h.provisioner.setPassword({ ...ref, password: 'new-one' }, never), { changed: false, detail: 'nothing kept locally: the server stores only the SCRAM verifier, which is set over SQL' })
  t.same(await h.provisioner.resizeStorage({ ...ref, storage_size_gb: 20, timeout_seconds: 600 }, never), { changed: true, detail: 'recorded; a local instance has no volume to grow' })
  t.same(await h.provisioner.resizeStorage({ ...ref, storage_size_gb: 20, timeout_seconds: 600 }, never), { changed: false, detail: 'already recorded; a local instance has no volume to grow' })
  t.same(await h.provisioner.applyLabels({ ...ref, labels: { team: 'orders', env: 'dev' } }, never), { changed: true, detail: 'recorded; a local instance has no objects to label' })
  t.same(await h.provisioner.applyLabels({ ...ref, labels: { env: 'dev', team: 'orders' } }, never), { changed: false, detail: 'already recorded; a local instance has no objects to label' })
  t.match(await meta(), { storage_size_gb: 20, labels: { env: 'dev', team: 'orders' } })
  t.notOk(JSON.stringify(await meta()).includes('new-one'))
})

t.test('allowed networks become hostssl rules; the running server is proven to have loaded them', async t => {
  const { h, pgdata, meta, connects } = await running(t, 27740)
  const hba = (): Promise<string> => readFile(join(pgdata, 'pg_hba.conf'), 'utf8')
  const pid = await livePid(pgdata)
  const ctx = ctxOf(new AbortController().signal)
  const applied = await h.provisioner.applyNetwork({ ...ref, allowed_cidrs: ['10.0.0.0/8', '2001:db8::/32'] }, ctx)
  t.same(applied, {
    changed: true,
    detail: 'pg_hba.conf allows 10.0.0.0/8, 2001:db8::/32 over TLS (hostssl) and loopback in plain TCP or TLS; the server has loaded it; the server listens on 127.0.0.1 only, so no other network can reach it'
  })
  t.match(await hba(), /^hostssl all +all +10\.0\.0\.0\/8 +scram-sha-256$/m)
  t.match(await hba(), /^hostssl all +all +2001:db8::\/32 +scram-sha-256$/m)
  t.notMatch(await hba(), /0\.0\.0\.0\/0/, 'no longer anywhere')
  t.match(await hba(), /^host +all +all +127\.0\.0\.1\/32 +scram-sha-256$/m, 'loopback kept')
  t.match(await connects(), /^PostgreSQL 18/, 'loopback still works')
  t.equal(await livePid(pgdata), pid, 'reloaded, not restarted')
  t.same((await meta()).allowed_cidrs, ['10.0.0.0/8', '2001:db8::/32'])
  t.same(ctx.reports, ['waiting for the server to load the new pg_hba.conf'])
  t.match(await h.provisioner.applyNetwork({ ...ref, allowed_cidrs: ['10.0.0.0/8', '2001:db8::/32'] }, never), { changed: false }, 'twice')

  await t.rejects(h.provisioner.applyNetwork({ ...ref, allowed_cidrs: ['10.0.0.0/8\nhost all all 0.0.0.0/0 trust'] }, never), {
    name: 'PermanentProvisionerError', message: /^allowed_cidrs: "10\.0\.0\.0\/8\\nhost all all 0\.0\.0\.0\/0 trust" is not an IPv4 or IPv6 network in CIDR notation$/
  })
  t.notMatch(await hba(), /trust/, 'nothing of it reached the file')

  await h.provisioner.stopPostgres(timed, never)
  t.match(await h.provisioner.applyNetwork({ ...ref, allowed_cidrs: [] }, never), {
    changed: true, detail: /^pg_hba\.conf allows loopback only \(plain TCP or TLS\); the server is not running and loads it when it starts;/
  })
})
