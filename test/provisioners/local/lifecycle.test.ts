import t from 'tap'
import { access, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { isAlive, livePid } from '../../../src/provisioners/local/server.ts'
import { probe } from '../../../src/provisioners/local/probe.ts'
import { ctxOf, deployInput, filesContaining, harness, never, secretPassword, INSTANCE_ID } from './fixtures/helpers.ts'

async function selectOne (connectionString: string, password: string): Promise<number> {
  // The string carries no password; pg is given it separately (a URL's empty password would override it).
  const url = new URL(connectionString)
  const client = new pg.Client({ host: url.hostname, port: Number(url.port), user: url.username, database: url.pathname.slice(1), password })
  await client.connect()
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one
  } finally {
    await client.end()
  }
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false)

t.test('create, connect, survive a control-plane restart, delete', async t => {
  const h = await harness(t, 27100)
  const password = secretPassword()
  const input = deployInput('life', password)
  const ref = { namespace: input.namespace, instance_name: input.instance_name, instance_id: input.instance_id }
  const outputs: unknown[] = []

  const deployed = await h.provisioner.deployPostgres(input, never)
  outputs.push(deployed)
  t.same(deployed, { instance_name: 'life', namespace: 'toygres', created: ['PortReservation/life', 'DataDirectory/life', 'Process/life'], existing: [] })

  const ready = await h.provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never)
  outputs.push(ready)
  t.equal(ready.ready, true)

  const strings = await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: 'life', timeout_seconds: 60 }, never)
  outputs.push(strings)
  t.match(strings.ip_connection_string, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/)
  t.equal(strings.external_ip, '127.0.0.1')
  t.equal(strings.dns_name, null)
  t.equal(strings.dns_connection_string, null)
  const port = Number(new URL(strings.ip_connection_string).port)
  t.ok(port >= h.ports.portMin && port <= h.ports.portMax, 'port from the configured range')
  t.equal(await readlink(join(h.dataDir, 'ports', String(port))), 'toygres/life', 'port reservation names its instance')
  t.equal(await selectOne(strings.ip_connection_string, password), 1)

  const pgdata = join(h.dataDir, 'instances', 'toygres', 'life', 'pgdata')
  const pid = await livePid(pgdata)
  t.ok(pid, 'a postmaster is running')

  // The control plane restarts: a fresh provisioner finds the same server on the same port.
  await h.provisioner.close()
  const again = h.reopen()
  const redeployed = await again.deployPostgres(input, never)
  t.same(redeployed.created, [], 'nothing to create after a restart')
  t.same(redeployed.existing, ['PortReservation/life', 'DataDirectory/life', 'Process/life'])
  t.same(await again.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never), strings, 'same port')
  t.equal(await livePid(pgdata), pid, 'same server process')
  t.equal(await selectOne(strings.ip_connection_string, password), 1)

  t.same(await filesContaining(h.dataDir, password), [], 'no file under the data directory holds the password')
  t.notOk(h.lines.some(line => line.includes(password)), 'no log line holds the password')
  t.notOk(JSON.stringify(outputs).includes(password), 'no output holds the password')

  t.same(await again.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: true })
  t.notOk(isAlive(pid!), 'the server process is gone')
  t.notOk(await exists(join(h.dataDir, 'instances', 'toygres', 'life')), 'its data is gone')
  t.notOk(await exists(join(h.dataDir, 'ports', String(port))), 'its port is free again')
  t.same(await probe(port), { ready: false, reason: 'ECONNREFUSED' })
  t.same(await again.deletePostgres({ ...ref, timeout_seconds: 60 }, never), { deleted: false }, 'deleting again finds nothing')
  await t.rejects(again.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never), { name: 'PermanentProvisionerError' })
})

t.test('a requested version other than the local one is accepted, recorded and logged', async t => {
  const h = await harness(t, 27150)
  await h.provisioner.deployPostgres({ ...deployInput('ver', secretPassword()), postgres_version: '15' }, never)
  const { readFile } = await import('node:fs/promises')
  const meta = JSON.parse(await readFile(join(h.dataDir, 'instances', 'toygres', 'ver', 'instance.json'), 'utf8'))
  t.match(meta, { requested_version: '15', server_version: /^18\./ })
  t.ok(h.lines.some(line => line.includes('requested PostgreSQL version differs')), 'a warning says so')
})

t.test('names that are not valid instance names are refused before touching the disk', async t => {
  const h = await harness(t, 27160, 27161)
  await t.rejects(h.provisioner.deployPostgres(deployInput('../escape', 'x'), never), { name: 'PermanentProvisionerError' })
  await t.rejects(h.provisioner.deployPostgres(deployInput('ok', 'x', '../ns'), never), { name: 'PermanentProvisionerError' })
  t.notOk(await exists(join(h.dataDir, 'instances')))
})

t.test('waitForReady times out with the reason, and stops at once when aborted', async t => {
  const h = await harness(t, 27170, 27179)
  const input = deployInput('slow', secretPassword())
  const ref = { namespace: input.namespace, instance_name: input.instance_name, instance_id: input.instance_id }
  await h.provisioner.deployPostgres(input, never)
  const pgdata = join(h.dataDir, 'instances', 'toygres', 'slow', 'pgdata')
  const pid = await livePid(pgdata)
  process.kill(pid!, 'SIGKILL')
  await t.rejects(h.provisioner.waitForReady({ ...ref, timeout_seconds: 1 }, never), { name: 'NotReadyError', message: /no server process is running/ })
  const controller = new AbortController()
  const waiting = h.provisioner.waitForReady({ ...ref, timeout_seconds: 300 }, ctxOf(controller.signal))
  controller.abort(new Error('cancelled by the test'))
  await t.rejects(waiting, { message: 'cancelled by the test' })
  await t.rejects(h.provisioner.waitForReady({ namespace: 'toygres', instance_name: 'nope', instance_id: INSTANCE_ID, timeout_seconds: 1 }, never), { name: 'PermanentProvisionerError' })
})
