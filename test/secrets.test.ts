// Secrets stay secret, on every path that could log or store them: a known
// database password (in DATABASE_URL), a known API token and known instance
// passwords (given at create and at a reset) are pushed through the real
// server process at LOG_LEVEL=trace, through failing connections (a killed
// instance server, a refused database), errors with causes and URLs with
// credentials; then every log line, every table row and every file is
// searched for them. The redaction mechanisms are also broken one at a time
// below, so this fails when any of them goes.
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { Writable } from 'node:stream'
import { join } from 'node:path'
import pg from 'pg'
import { pino } from 'pino'
import t from 'tap'
import { checkHealth } from '../src/activities/check-health.ts'
import { testConnection } from '../src/activities/test-connection.ts'
import { loggerOptions } from '../src/logging.ts'
import { localProvisionerEnv } from './helpers/app.ts'
import { createTestDatabase } from './helpers/db.ts'
import { pollUntil } from './helpers/poll.ts'
import { freePort } from './helpers/ports.ts'
import { spawnServer, waitForOk } from './helpers/server-process.ts'

const DB_PASSWORD = 'Db-Needle-3f9a:@/%'
const TOKEN = 'Token-Needle-8c2e-0123456789'
const INSTANCE_PASSWORD = 'Inst-Needle-77b1!#'
const RESET_PASSWORD = 'Reset-Needle-5d0e?&'
const NEEDLES = [DB_PASSWORD, encodeURIComponent(DB_PASSWORD), TOKEN, INSTANCE_PASSWORD, encodeURIComponent(INSTANCE_PASSWORD), RESET_PASSWORD, encodeURIComponent(RESET_PASSWORD)]
const found = (text: string): string[] => NEEDLES.filter(n => text.includes(n))

t.test('the real server at trace level: no secret in any log line, table or file', async t => {
  // A role of its own with a known password: the URL carries it through every path.
  const plain = new URL(await createTestDatabase(t))
  const admin = new pg.Client({ connectionString: plain.toString() })
  await admin.connect()
  const role = `scan_${process.pid}`
  await admin.query(`CREATE ROLE ${role} LOGIN SUPERUSER PASSWORD '${DB_PASSWORD.replaceAll("'", "''")}'`)
  t.teardown(async () => { await admin.query(`DROP OWNED BY ${role} CASCADE`).catch(() => {}); await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {}); await admin.end() })
  plain.username = role
  plain.password = encodeURIComponent(DB_PASSWORD)
  const env = await localProvisionerEnv(t)
  const server = spawnServer({
    ...env, DATABASE_URL: plain.toString(), LOG_LEVEL: 'trace', TOYGRES_API_TOKEN: TOKEN, TOYGRES_WORKER_CONCURRENCY: '2',
    TOYGRES_HEALTH_INTERVAL_SECONDS: '1', TOYGRES_HEALTH_FAILURE_THRESHOLD: '2', TOYGRES_SECRET_KEY: 'b'.repeat(64)
  }, await freePort())
  t.teardown(() => { server.child.kill('SIGKILL') })
  await waitForOk(server, '/readyz')
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + path, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, text: await res.text() }
  }
  const responses: string[] = []
  const created = await call('POST', '/instances', { name: 'secret-keeper', password: INSTANCE_PASSWORD, use_load_balancer: false })
  t.equal(created.status, 202)
  // The one place issue 12 allows it: the 202's ready-to-paste URI, percent-encoded; nowhere else in the answer.
  const { connection_uri: uri, ...rest } = JSON.parse(created.text)
  t.equal(new URL(uri).password, encodeURIComponent(INSTANCE_PASSWORD), 'once, in the 202\'s connection_uri')
  t.same(found(JSON.stringify(rest)), [], 'and nowhere else in the 202')
  const state = () => call('GET', '/instances/secret-keeper').then(r => { responses.push(r.text); return JSON.parse(r.text) })
  await pollUntil(state, i => i.state === 'running' && i.health === 'healthy', { what: 'running and healthy', timeoutMs: 120_000 })

  // Failing connections: the instance's server killed, checks fail, auto-restart brings it back.
  const pid = Number((await readFile(join(env.TOYGRES_DATA_DIR!, 'instances', 'toygres', 'secret-keeper', 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0])
  process.kill(pid, 'SIGKILL')
  await pollUntil(state, i => i.health === 'unhealthy', { what: 'unhealthy', timeoutMs: 60_000 })
  await pollUntil(state, i => i.health === 'healthy', { what: 'healthy again', timeoutMs: 60_000 })
  // A password reset (shown once: its response is the one place a password may appear), parameters, logs, a wrong token.
  const reset = await call('POST', '/instances/secret-keeper/reset-password', { password: RESET_PASSWORD })
  t.equal(reset.status, 202)
  t.ok(reset.text.includes(encodeURIComponent(RESET_PASSWORD)), 'the reset answers with the new password once')
  await pollUntil(state, i => i.state === 'running' && i.operation?.status === 'succeeded', { what: 'the reset', timeoutMs: 60_000 })
  responses.push((await call('PATCH', '/instances/secret-keeper', { parameters: { work_mem: '8MB' } })).text)
  responses.push((await call('GET', '/instances/secret-keeper/logs?tail=1000')).text)
  responses.push((await call('GET', '/instances/secret-keeper/operations')).text)
  responses.push((await call('GET', '/operations')).text)
  responses.push((await call('GET', '/operations?kind=health-check')).text)
  responses.push((await fetch(`${server.url}/instances`, { headers: { authorization: `Bearer ${TOKEN}-wrong` } }).then(r => r.text())))

  const del = await call('DELETE', '/instances/secret-keeper')
  t.equal(del.status, 202)
  await pollUntil(() => call('GET', '/instances/secret-keeper'), r => r.status === 404, { what: 'gone', timeoutMs: 60_000 })
  server.child.kill('SIGTERM')
  await server.exited

  t.ok(server.output().split('\n').length > 100, `trace logs were written (${server.output().split('\n').length} lines)`)
  t.same(found(server.output()), [], 'no secret in any log line')
  t.same(responses.flatMap(found), [], 'no secret in any other response')
  const client = new pg.Client({ connectionString: plain.toString() })
  await client.connect()
  t.teardown(() => client.end())
  const tables = (await client.query<{ s: string, n: string }>("SELECT table_schema AS s, table_name AS n FROM information_schema.tables WHERE table_schema IN ('toygres', 'pgboss') AND table_type = 'BASE TABLE'")).rows
  let dump = ''
  for (const { s, n } of tables) dump += JSON.stringify((await client.query(`SELECT * FROM "${s}"."${n}"`)).rows)
  t.ok(dump.includes('secret-keeper'), 'the dump sees the instance\'s history')
  t.same(found(dump), [], 'no secret in any table (jobs, operation inputs, checkpoints, events, metadata)')
  const files = await readdir(env.TOYGRES_DATA_DIR!, { recursive: true, withFileTypes: true })
  const leaking: string[] = []
  for (const f of files.filter(e => e.isFile())) {
    const data = await readFile(join(f.parentPath, f.name)).catch(() => Buffer.alloc(0))
    if (NEEDLES.some(n => data.includes(n))) leaking.push(join(f.parentPath, f.name))
  }
  t.same(leaking, [], 'no secret in any file under the data directory')
})

t.test('a boot failure names no password, even in the URL it could not reach', async t => {
  const closed = await freePort()
  const server = spawnServer({ DATABASE_URL: `postgresql://postgres:${encodeURIComponent(DB_PASSWORD)}@127.0.0.1:${closed}/postgres`, LOG_LEVEL: 'trace' }, await freePort())
  t.equal(await server.exited, 1)
  t.match(server.output(), /failed to start/)
  t.same(found(server.output()), [])
})

t.test('log redaction: known fields, URLs with credentials, errors and their causes, at every level', async t => {
  let out = ''
  const log = pino(loggerOptions('trace'), new Writable({ write (chunk, _enc, cb) { out += chunk; cb() } }))
  const url = `postgresql://postgres:${encodeURIComponent(DB_PASSWORD)}@db:5432/x`
  log.trace({ password: DB_PASSWORD, input: { password: INSTANCE_PASSWORD }, databaseUrl: url, config: { connectionString: url } }, 'trace')
  log.debug({ req: { headers: { authorization: `Bearer ${TOKEN}` } } }, `calling ${url}`)
  const cause = new Error(`could not connect to ${url}`)
  log.error({ err: new Error('boot failed', { cause: new Error('pool failed', { cause }) }) }, 'boom')
  log.warn({ err: Object.assign(new Error(`query on ${url}`), { detail: url }) }, 'warned')
  t.same(found(out), [], 'nothing leaked')
  t.match(out, /postgresql:\/\/postgres:\*\*\*@db:5432/, 'the URL is still there, without its password')
})

t.test('a server that echoes the password back: test-connection and check-health scrub it from their errors', async t => {
  // A fake server answering the startup message with an ErrorResponse that repeats the password.
  const echo = createServer(socket => socket.once('data', () => {
    const fields = Buffer.from(`SFATAL\0C28P01\0Mpassword authentication failed: you said ${INSTANCE_PASSWORD}\0\0`)
    const head = Buffer.alloc(5)
    head.write('E', 0)
    head.writeInt32BE(4 + fields.length, 1)
    socket.end(Buffer.concat([head, fields]))
  }))
  await new Promise<void>(resolve => echo.listen(0, '127.0.0.1', resolve))
  t.teardown(() => echo.close())
  const url = `postgresql://postgres@127.0.0.1:${(echo.address() as { port: number }).port}/postgres?sslmode=disable`
  const err = await testConnection({ connection_string: url, password: INSTANCE_PASSWORD, ca_pem: null }, new AbortController().signal).catch(e => e)
  t.match(err.message, /you said \*\*\*/)
  t.same(found(err.message), [])
  const check = await checkHealth({ connection_string: url, password: INSTANCE_PASSWORD, ca_pem: null, timeout_ms: 5000 }, new AbortController().signal)
  t.equal(check.ok, false)
  t.match(check.error, /you said \*\*\*/)
  t.same(found(check.error ?? ''), [])
})
