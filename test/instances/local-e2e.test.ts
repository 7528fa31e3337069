// The user's path, end to end through HTTP with the local provisioner:
// create, poll to running, connect with the returned info, delete, poll to 404.
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { activityNames as activities } from '../../src/activities/names.ts'
import { orchestrationNames as orchestrations } from '../../src/orchestrations/names.ts'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { instanceClient } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { isAlive } from '../../src/provisioners/local/server.ts'


t.test('create → running → connect → delete → gone', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env, TOYGRES_WORKER_CONCURRENCY: '4' })

  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'orders-db', use_load_balancer: false } })
  t.equal(created.statusCode, 202, created.body)
  t.equal(created.headers.location, '/instances/orders-db')
  t.ok(created.headers['retry-after'])
  const body = created.json()
  t.match(body, { name: 'orders-db', state: 'creating', health: 'unknown', namespace: 'toygres', postgres_version: '18', storage_size_gb: 10 })
  t.equal(body.operation.name, orchestrations.CREATE_INSTANCE)
  t.type(body.password, 'string', 'a generated password is returned once')
  const password: string = body.password

  const running = await pollUntil(async () => (await app.inject('/instances/orders-db')).json(),
    // The instance is running once mark-running commits; the operation ends a step later.
    i => (i.state === 'running' && i.operation.status === 'succeeded') || i.state === 'failed', { what: 'running', timeoutMs: 90_000 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  t.notOk('password' in running, 'GET never shows the password')
  t.match(running.ip_connection_string, /^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres\?sslmode=require$/)
  t.match(running.server_version, /^PostgreSQL \d+/)
  t.equal(running.operation.status, 'succeeded')
  t.same(running.operation.steps.slice(0, 4).map((s: { name: string }) => s.name), [
    activities.DEPLOY_POSTGRES, activities.WAIT_FOR_READY, activities.GET_CONNECTION_STRINGS, activities.TEST_CONNECTION
  ])
  t.ok(running.operation.steps.some((s: { name: string }) => s.name === activities.MARK_RUNNING))
  for (const step of running.operation.steps) t.match(step, { status: 'succeeded', attempts: 1, started_at: String, finished_at: String })
  const deploy = running.operation.steps.find((s: { name: string }) => s.name === activities.DEPLOY_POSTGRES)
  t.match(deploy.output, { instance_name: 'orders-db', created: Array }, 'the timeline shows what each step returned')

  // As a node-postgres user would: the address from the connection string,
  // the password beside it, TLS verified against the control plane's CA.
  const url = new URL(running.ip_connection_string)
  const client = new pg.Client({ host: url.hostname, port: Number(url.port), user: url.username, database: url.pathname.slice(1), password, ssl: { ca: app.controlPlane.authority.certificatePem } })
  await client.connect()
  const { rows } = await client.query('SELECT current_user AS who, 40 + 2 AS answer')
  await client.end()
  t.same(rows[0], { who: 'postgres', answer: 42 })

  // The 202's ready-to-paste URI names the port the instance got, and connects as it is.
  t.equal(body.connection_uri, `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${url.port}/postgres?sslmode=require`)
  const pasted = instanceClient(body.connection_uri, app.controlPlane.authority.certificatePem)
  await pasted.connect()
  t.same((await pasted.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the pasted URI connects')
  await pasted.end()

  const listed = (await app.inject('/instances?state=running')).json()
  t.same(listed.items.map((i: { name: string }) => i.name), ['orders-db'])

  const instanceDir = join(env.TOYGRES_DATA_DIR!, 'instances', 'toygres', 'orders-db')
  const postmaster = Number((await readFile(join(instanceDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0])
  t.ok(isAlive(postmaster), 'a real server process runs the instance')

  const deleted = await app.inject({ method: 'DELETE', url: '/instances/orders-db' })
  t.equal(deleted.statusCode, 202)
  t.equal(deleted.json().state, 'deleting')
  t.equal(deleted.json().operation.name, orchestrations.DELETE_INSTANCE)
  const again = await app.inject({ method: 'DELETE', url: '/instances/orders-db' })
  t.equal(again.statusCode, 202)
  t.equal(again.json().operation.id, deleted.json().operation.id, 'repeating a delete returns the same operation')

  await pollUntil(async () => (await app.inject('/instances/orders-db')).statusCode, s => s === 404, { what: '404', timeoutMs: 60_000 })
  const op = (await app.inject(`/operations/${deleted.json().operation.id}`)).json()
  t.match(op, { status: 'succeeded', output: { instance_name: 'orders-db', deleted: true } })
  t.notOk(isAlive(postmaster), 'the server process is gone')
  t.notOk(existsSync(instanceDir), 'its data is gone')

  // The name is free again.
  const reuse = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'orders-db', password: 'another-strong-pw' } })
  t.equal(reuse.statusCode, 202)
  t.notOk('password' in reuse.json(), 'a password the user chose is not echoed')
  await pollUntil(async () => (await app.inject('/instances/orders-db')).json().state, s => s !== 'creating', { timeoutMs: 90_000 })
  await app.inject({ method: 'DELETE', url: '/instances/orders-db' })
  await pollUntil(async () => (await app.inject('/instances/orders-db')).statusCode, s => s === 404, { timeoutMs: 60_000 })
  t.same(await readdir(join(env.TOYGRES_DATA_DIR!, 'instances', 'toygres')).catch(() => []), [])
})

t.test('a password with @ / : % # ? & = in it: the 202\'s URI is percent-encoded and connects as pasted', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env, TOYGRES_WORKER_CONCURRENCY: '2' })
  const password = 'p@ss/w:rd%#?&=x1'
  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'pasted', password, use_load_balancer: false } })
  t.equal(created.statusCode, 202, created.body)
  const uri: string = created.json().connection_uri
  t.match(uri, /^postgresql:\/\/postgres:p%40ss%2Fw%3Ard%25%23%3F%26%3Dx1@127\.0\.0\.1:\d+\/postgres\?sslmode=require$/)
  const running = await pollUntil(async () => (await app.inject('/instances/pasted')).json(), i => i.state !== 'creating', { what: 'running', timeoutMs: 90_000 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  t.equal(new URL(uri).port, new URL(running.ip_connection_string).port, 'the port reserved at the 202 is the one deploy used')
  const client = instanceClient(uri, app.controlPlane.authority.certificatePem)
  await client.connect()
  t.same((await client.query('SELECT current_user AS who')).rows, [{ who: 'postgres' }])
  await client.end()
  t.equal((await app.inject({ method: 'DELETE', url: '/instances/pasted' })).statusCode, 202)
  await pollUntil(async () => (await app.inject('/instances/pasted')).statusCode, s => s === 404, { what: 'gone', timeoutMs: 60_000 })
  t.same(await readdir(join(env.TOYGRES_DATA_DIR!, 'ports')).catch(() => []), [], 'its port reservation went with it')
})
