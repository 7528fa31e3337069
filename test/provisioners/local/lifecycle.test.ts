import t from 'tap'
import { access, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { testConnection } from '../../../src/activities/test-connection.ts'
import { isAlive, livePid } from '../../../src/provisioners/local/server.ts'
import { acceptsConnections } from '../../../src/provisioners/local/probe.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { ctxOf, deployInput, filesContaining, harness, never, pgdataOf, refOf, secretPassword, testAuthority, INSTANCE_ID } from './fixtures/helpers.ts'

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false)
const ca = testAuthority.certificatePem

t.test('create, connect, survive a control-plane restart, delete', async t => {
  const h = await harness(t, 27100)
  const password = secretPassword()
  const input = deployInput('life', password)
  const ref = refOf('life')
  const outputs: unknown[] = []

  const deployed = await h.provisioner.deployPostgres(input, never)
  outputs.push(deployed)
  t.same(deployed, { instance_name: 'life', namespace: 'toygres', created: ['PortReservation/life', 'DataDirectory/life', 'Certificate/life', 'Process/life'], existing: [] })

  const ready = await h.provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never)
  outputs.push(ready)
  t.equal(ready.ready, true)

  const strings = await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: 'life', timeout_seconds: 60 }, never)
  outputs.push(strings)
  t.match(strings.ip_connection_string, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=require$/)
  t.equal(strings.external_ip, '127.0.0.1')
  t.equal(strings.dns_name, null)
  t.equal(strings.dns_connection_string, null)
  const port = Number(new URL(strings.ip_connection_string).port)
  t.ok(port >= h.ports.portMin && port <= h.ports.portMax, 'port from the configured range')
  t.equal(await readlink(join(h.dataDir, 'ports', String(port))), `toygres/life/${INSTANCE_ID}`, 'port reservation names its owner')
  t.match((await testConnection({ connection_string: strings.ip_connection_string, password, ca_pem: ca }, never.signal)).version, /^PostgreSQL 18\./, 'TLS verified against the CA')

  const meta = JSON.parse(await readFile(join(h.dataDir, 'instances', 'toygres', 'life', 'instance.json'), 'utf8'))
  t.match(meta, { instance_id: INSTANCE_ID, control_plane_id: 'test-plane', port, major: '18', server_version: /^18\.\d+$/, stopped_by_user: false }, 'instance.json carries the mark and the major that runs')

  const pgdata = pgdataOf(h.dataDir, 'life')
  const pid = await livePid(pgdata)
  t.ok(pid, 'a postmaster is running')

  // The control plane restarts: a fresh provisioner finds the same server on the same port.
  await h.provisioner.close()
  const again = h.reopen()
  const redeployed = await again.deployPostgres(input, never)
  t.same(redeployed.created, [], 'nothing to create after a restart')
  t.same(redeployed.existing, ['PortReservation/life', 'DataDirectory/life', 'Certificate/life', 'Process/life'])
  t.same(await again.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never), strings, 'same port')
  t.equal(await livePid(pgdata), pid, 'same server process')
  t.match((await testConnection({ connection_string: strings.ip_connection_string, password, ca_pem: ca }, never.signal)).version, /^PostgreSQL 18/)

  t.same(await filesContaining(h.dataDir, password), [], 'no file under the data directory holds the password')
  t.notOk(h.lines.some(line => line.includes(password)), 'no log line holds the password')
  t.notOk(JSON.stringify(outputs).includes(password), 'no output holds the password')

  t.same(await again.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: true })
  t.notOk(isAlive(pid!), 'the server process is gone')
  t.notOk(await exists(join(h.dataDir, 'instances', 'toygres', 'life')), 'its data is gone')
  t.notOk(await exists(join(h.dataDir, 'ports', String(port))), 'its port is free again')
  t.same(await acceptsConnections(port), { ready: false, reason: 'ECONNREFUSED' })
  t.same(await again.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: false }, 'deleting again finds nothing')
  await t.rejects(again.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never), { name: 'PermanentProvisionerError' })
})

t.test('a major that is not installed is refused at once, naming the command that adds it', async t => {
  const h = await harness(t, 27150, 27151)
  t.same(await h.provisioner.supportedVersions(), ['18'], 'the bundled major (a second one is added in versions.test.ts)')
  const err = await h.provisioner.deployPostgres({ ...deployInput('ver', secretPassword()), postgres_version: '11' }, never).catch(e => e)
  t.match(err, { name: 'PermanentProvisionerError', retryable: false, message: 'PostgreSQL 11 is not installed here (installed: 18): add it with `npm run postgres:add -- 11`' })
  t.notOk(await exists(join(h.dataDir, 'instances', 'toygres', 'ver')), 'nothing was made')
  t.notOk(await exists(join(h.dataDir, 'ports')), 'no port was reserved')
  t.match(h.provisioner.versionsHint, /`npm run postgres:add -- <major>`/, 'the hint the API shows names the same command')
})

t.test('names that are not valid instance names are refused before touching the disk', async t => {
  const h = await harness(t, 27160, 27161)
  await t.rejects(h.provisioner.deployPostgres(deployInput('../escape', 'x'), never), { name: 'PermanentProvisionerError' })
  await t.rejects(h.provisioner.deployPostgres(deployInput('ok', 'x', '../ns'), never), { name: 'PermanentProvisionerError' })
  await t.rejects(h.provisioner.deployPostgres(deployInput('ok', 'x', 'toygres', '../../id'), never), { name: 'PermanentProvisionerError' })
  t.notOk(await exists(join(h.dataDir, 'instances')))
})

t.test('waitForReady says why it waits, times out with the reason, and stops at once when aborted', async t => {
  const h = await harness(t, 27170, 27179)
  const input = deployInput('slow', secretPassword())
  const ref = refOf('slow')
  await h.provisioner.deployPostgres(input, never)
  const pid = (await livePid(pgdataOf(h.dataDir, 'slow')))!
  process.kill(pid, 'SIGKILL')
  // A signal is delivered asynchronously: wait until the kernel says it is dead.
  await pollUntil(async () => isAlive(pid), alive => !alive, { what: 'the killed postmaster to die', timeoutMs: 10_000, intervalMs: 10 })
  const ctx = ctxOf(new AbortController().signal)
  await t.rejects(h.provisioner.waitForReady({ ...ref, timeout_seconds: 1 }, ctx), { name: 'NotReadyError', retryable: true, message: /no server process is running/ })
  t.match(ctx.reports, [/^nothing listens on 127\.0\.0\.1:\d+ yet \(ECONNREFUSED\)$/], 'the reason, reported once while it stays the same')
  const controller = new AbortController()
  const waiting = h.provisioner.waitForReady({ ...ref, timeout_seconds: 300 }, ctxOf(controller.signal))
  controller.abort(new Error('cancelled by the test'))
  await t.rejects(waiting, { message: 'cancelled by the test' })
  await t.rejects(h.provisioner.waitForReady({ ...refOf('nope'), timeout_seconds: 1 }, never), { name: 'PermanentProvisionerError' })
})
