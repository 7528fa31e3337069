// Every method twice, and re-runs after crashes half-way, converge.
import t from 'tap'
import { cp, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { findBinaries, postgresRunAs } from '../../../src/postgres/binaries.ts'
import { stopCluster } from '../../../src/postgres/cluster.ts'
import { testConnection } from '../../../src/activities/test-connection.ts'
import { isAlive, livePid } from '../../../src/provisioners/local/server.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { deployInput, harness, never, refOf, secretPassword, testAuthority, INSTANCE_ID } from './fixtures/helpers.ts'

const cluster = (dataDir: string) => ({ binaries: findBinaries(), runAs: postgresRunAs(), dataDir })
const owner = (name: string): string => `toygres/${name}/${INSTANCE_ID}`

t.test('each method twice', async t => {
  const h = await harness(t, 27300)
  const input = deployInput('twice', secretPassword())
  const ref = refOf('twice')
  const first = await h.provisioner.deployPostgres(input, never)
  const second = await h.provisioner.deployPostgres(input, never)
  t.same(second.existing, first.created, 'the second deploy finds what the first created')
  t.same(second.created, [])
  t.equal((await h.provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never)).ready, true)
  t.equal((await h.provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never)).ready, true)
  const strings = await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never)
  t.same(await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never), strings)
  // Concurrent repeats too: the engine may retry while a first attempt still runs.
  const both = await Promise.all([h.provisioner.deployPostgres(input, never), h.reopen().deployPostgres(input, never)])
  t.same(both.map(b => b.created), [[], []])
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: true })
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: false })
})

t.test('concurrent first deploys of one instance by two control-plane processes make one of everything', async t => {
  const h = await harness(t, 27310, 27319)
  const input = deployInput('race', secretPassword())
  const results = await Promise.all([h.provisioner.deployPostgres(input, never), h.reopen().deployPostgres(input, never)])
  t.same(results.flatMap(r => r.created).filter(c => c.startsWith('PortReservation')), ['PortReservation/race'], 'one claim won')
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ ...refOf('race'), use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never)
  t.same(await readdir(join(h.dataDir, 'ports')), [new URL(url).port], 'one port reserved: the one recorded (the loser released its own)')
  t.same((await readdir(join(h.dataDir, 'instances', 'toygres'))).sort(), ['race'], 'no claim leftovers')
})

t.test('deploy converges after crashes half-way', async t => {
  const h = await harness(t, 27350)
  const password = secretPassword()
  const input = deployInput('crashy', password)
  const dir = join(h.dataDir, 'instances', 'toygres', 'crashy')
  const pgdata = join(dir, 'pgdata')
  await h.reopen().deployPostgres(deployInput('other', secretPassword()), never) // builds the template

  // 1. Crashed after reserving a port, before claiming the directory: the reservation is reused.
  await symlink(owner('crashy'), join(h.dataDir, 'ports', String(h.ports.portMin + 7)))
  // ...and a claim of a process that died before renaming it into place.
  await mkdir(join(h.dataDir, 'instances', 'toygres', '.claim-999999999-dead'))
  const deployed = await h.provisioner.deployPostgres(input, never)
  t.same(deployed.created, ['PortReservation/crashy', 'DataDirectory/crashy', 'Certificate/crashy', 'Process/crashy'])
  t.same((await readdir(join(h.dataDir, 'instances', 'toygres'))).sort(), ['crashy', 'other'], 'the dead claim was swept')
  const strings = await h.provisioner.getConnectionStrings({ ...refOf('crashy'), use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never)
  t.equal(new URL(strings.ip_connection_string).port, String(h.ports.portMin + 7), 'the earlier reservation was used')

  // 2. Crashed after claiming, while copying the template: the data directory is made again, the partial copy swept.
  await stopCluster(cluster(pgdata), 'immediate')
  await rm(pgdata, { recursive: true })
  await cp(join(h.dataDir, 'templates', 'pg18'), join(dir, 'pgdata.partial-999999999-dead'), { recursive: true })
  t.same((await h.provisioner.deployPostgres(input, never)).created, ['DataDirectory/crashy', 'Certificate/crashy', 'Process/crashy'])
  t.same((await readdir(dir)).sort(), ['instance.json', 'pgdata', 'root.crt'], 'the partial copy was swept')

  // 3. Configured but not started (a clean stop stands in for a crash before pg_ctl start).
  await stopCluster(cluster(pgdata))
  t.same((await h.provisioner.deployPostgres(input, never)).created, ['Process/crashy'])

  // 4. The server was killed: it comes back, on the same port, with the same password.
  const killed = (await livePid(pgdata))!
  process.kill(killed, 'SIGKILL')
  await pollUntil(async () => isAlive(killed), alive => !alive, { what: 'the killed postmaster to die', timeoutMs: 10_000, intervalMs: 10 })
  const again = await h.reopen().deployPostgres(input, never)
  t.same(again.created, ['Process/crashy'])
  t.same(again.existing, ['PortReservation/crashy', 'DataDirectory/crashy', 'Certificate/crashy'])
  await h.provisioner.waitForReady({ ...refOf('crashy'), timeout_seconds: 60 }, never)
  t.match((await testConnection({ connection_string: strings.ip_connection_string, password, ca_pem: testAuthority.certificatePem }, never.signal)).version, /^PostgreSQL 18/)
})

t.test('delete converges after a crash half-way', async t => {
  const h = await harness(t, 27400)
  const ref = refOf('halfgone')
  await h.provisioner.deployPostgres(deployInput('halfgone', secretPassword()), never)
  const dir = join(h.dataDir, 'instances', 'toygres', 'halfgone')
  const trash = join(h.dataDir, 'instances', 'toygres', `.deleting-halfgone-${INSTANCE_ID}`)
  // Stopped and moved to the trash, not yet removed; the port reservation is still there.
  await stopCluster(cluster(join(dir, 'pgdata')), 'immediate')
  await rename(dir, trash)
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: true })
  t.same(await readdir(join(h.dataDir, 'instances', 'toygres')), [], 'the trash is gone')
  t.same(await readdir(join(h.dataDir, 'ports')), [])
  // Only a port reservation left (crash between removing the data and releasing the port).
  await symlink(owner('halfgone'), join(h.dataDir, 'ports', String(h.ports.portMin)))
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: true })
  t.same(await readdir(join(h.dataDir, 'ports')), [])
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: false })
})

t.test('ports in use by other programs are skipped', async t => {
  const h = await harness(t, 27450, 27459)
  const squatter = createServer()
  squatter.listen(h.ports.portMin, '127.0.0.1')
  await once(squatter, 'listening')
  t.teardown(() => new Promise(resolve => squatter.close(resolve)))
  await h.provisioner.deployPostgres(deployInput('skip', secretPassword()), never)
  const ports = await readdir(join(h.dataDir, 'ports'))
  t.same(ports, [String(h.ports.portMin + 1)])
  t.equal(await readlink(join(h.dataDir, 'ports', ports[0]!)), owner('skip'))
})

t.test('an exhausted port range is a permanent error that says what to do', async t => {
  const h = await harness(t, 27460, 27460)
  await h.provisioner.deployPostgres(deployInput('only', secretPassword()), never)
  await t.rejects(h.provisioner.deployPostgres(deployInput('nope', secretPassword(), 'toygres', '00000000-0000-4000-8000-00000000000b'), never), {
    name: 'PermanentProvisionerError',
    retryable: false,
    message: 'no free port left in 27460-27460: raise TOYGRES_LOCAL_PORT_MAX or delete instances'
  })
  t.same(await readdir(join(h.dataDir, 'instances', 'toygres')), ['only'], 'nothing made for the refused one')
})
