// Every method twice, and re-runs after crashes half-way, converge.
import t from 'tap'
import { cp, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { findBinaries, postgresRunAs } from '../../../src/postgres/binaries.ts'
import { stopCluster } from '../../../src/postgres/cluster.ts'
import { testConnection } from '../../../src/activities/test-connection.ts'
import { livePid } from '../../../src/provisioners/local/server.ts'
import { deployInput, harness, never, secretPassword, INSTANCE_ID } from './fixtures/helpers.ts'

const cluster = (dataDir: string) => ({ binaries: findBinaries(), runAs: postgresRunAs(), dataDir })

t.test('each method twice', async t => {
  const h = await harness(t, 27300)
  const input = deployInput('twice', secretPassword())
  const ref = { namespace: 'toygres', instance_name: 'twice', instance_id: INSTANCE_ID }
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

t.test('deploy converges after crashes half-way', async t => {
  const h = await harness(t, 27350)
  const password = secretPassword()
  const input = deployInput('crashy', password)
  const dir = join(h.dataDir, 'instances', 'toygres', 'crashy')
  const pgdata = join(dir, 'pgdata')

  // 1. Crashed after reserving a port, before recording it: the reservation is reused.
  await mkdir(join(h.dataDir, 'ports'), { recursive: true })
  await symlink('toygres/crashy', join(h.dataDir, 'ports', String(h.ports.portMin + 7)))
  // 2. ...and after copying the template, before configuring it: a partial copy of a dead process.
  await h.reopen().deployPostgres(deployInput('other', secretPassword()), never) // builds the template
  await mkdir(dir, { recursive: true })
  await cp(join(h.dataDir, 'templates', 'pg18'), join(dir, 'pgdata.partial-999999999-dead'), { recursive: true })

  const deployed = await h.provisioner.deployPostgres(input, never)
  t.same(deployed.created, ['PortReservation/crashy', 'DataDirectory/crashy', 'Process/crashy'])
  t.same(await readdir(dir), ['instance.json', 'pgdata'], 'the partial copy was swept')
  const strings = await h.provisioner.getConnectionStrings({ namespace: 'toygres', instance_name: 'crashy', instance_id: INSTANCE_ID, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never)
  t.equal(new URL(strings.ip_connection_string).port, String(h.ports.portMin + 7), 'the earlier reservation was used')

  // 3. Configured but not started (a clean stop stands in for a crash before pg_ctl start).
  await stopCluster(cluster(pgdata))
  t.same((await h.provisioner.deployPostgres(input, never)).created, ['Process/crashy'])

  // 4. The server was killed: it comes back, on the same port, with the same password.
  process.kill((await livePid(pgdata))!, 'SIGKILL')
  const again = await h.reopen().deployPostgres(input, never)
  t.same(again.created, ['Process/crashy'])
  t.same(again.existing, ['PortReservation/crashy', 'DataDirectory/crashy'])
  await h.provisioner.waitForReady({ namespace: 'toygres', instance_name: 'crashy', instance_id: INSTANCE_ID, timeout_seconds: 60 }, never)
  t.match((await testConnection({ connection_string: strings.ip_connection_string, password, ca_pem: null }, never.signal)).version, /^PostgreSQL 18/)
})

t.test('delete converges after a crash half-way', async t => {
  const h = await harness(t, 27400)
  const ref = { namespace: 'toygres', instance_name: 'halfgone', instance_id: INSTANCE_ID }
  await h.provisioner.deployPostgres(deployInput('halfgone', secretPassword()), never)
  const dir = join(h.dataDir, 'instances', 'toygres', 'halfgone')
  // Stopped and data removed, but the record and the port reservation are still there.
  await stopCluster(cluster(join(dir, 'pgdata')), 'immediate')
  await rm(join(dir, 'pgdata'), { recursive: true })
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: true })
  t.same(await readdir(join(h.dataDir, 'ports')), [])
  // Only a port reservation left (crash between removing the data and releasing the port).
  await symlink('toygres/halfgone', join(h.dataDir, 'ports', String(h.ports.portMin)))
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
  t.equal(await readlink(join(h.dataDir, 'ports', ports[0]!)), 'toygres/skip')
})

t.test('an exhausted port range is a clear error', async t => {
  const h = await harness(t, 27460, 27460)
  await h.provisioner.deployPostgres(deployInput('only', secretPassword()), never)
  await t.rejects(h.provisioner.deployPostgres(deployInput('nope', secretPassword()), never), { message: /no free port left in 27460-27460/ })
})
