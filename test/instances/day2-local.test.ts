// Day-2 operations through the API on the local provisioner, with real
// servers: restart gives a new server process on the same data; stop refuses
// connections and start brings the data back; a password reset makes the
// old password fail and the new one work while health stays healthy;
// parameters change (and say when they need a restart); deletion protection
// holds; changes asked back to back run in order; a cancelled operation's
// instance can be acted on again; bad input changes nothing.
import t from 'tap'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { instanceClient } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import type { FastifyInstance } from 'fastify'

const TOKEN_ENV = { TOYGRES_WORKER_CONCURRENCY: '4', TOYGRES_HEALTH_INTERVAL_SECONDS: '1', TOYGRES_HEALTH_FAILURE_THRESHOLD: '2' }

async function finished (app: FastifyInstance, id: string): Promise<{ status: string, error: unknown, output: any }> {
  return pollUntil(async () => (await app.inject(`/operations/${id}`)).json(), op => ['succeeded', 'failed', 'cancelled'].includes(op.status),
    { what: `operation ${id} to finish`, timeoutMs: 120_000 })
}

async function query (uri: string, ca: string, sql: string): Promise<any[]> {
  const client = instanceClient(uri, ca)
  await client.connect()
  try { return (await client.query(sql)).rows } finally { await client.end() }
}

t.test('restart, stop/start, password, parameters, protection, order, cancel — through the API', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env, ...TOKEN_ENV })
  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'daytwo', use_load_balancer: false } })
  t.equal(created.statusCode, 202)
  const { password } = created.json()
  t.equal((await finished(app, created.json().operation.id)).status, 'succeeded')
  const running = (await app.inject('/instances/daytwo')).json()
  const ca = running.ca_certificate as string
  const uri = (pw: string): string => { const u = new URL(running.ip_connection_string); u.password = encodeURIComponent(pw); return u.toString() }
  await query(uri(password), ca, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'survives\')')
  const pidOf = async (pw: string) => (await query(uri(pw), ca, 'SELECT pg_postmaster_start_time()::text AS s'))[0].s

  await t.test('restart: a new server process, the same data', async t => {
    const before = await pidOf(password)
    const res = await app.inject({ method: 'POST', url: '/instances/daytwo/restart' })
    t.equal(res.statusCode, 202)
    t.match(res.json(), { state: 'running', queued_behind: null, operation: { name: 'toygres-orchestrations::orchestration::restart-instance' } })
    const op = await finished(app, res.json().operation.id)
    t.equal(op.status, 'succeeded', JSON.stringify(op.error))
    t.notSame(await pidOf(password), before, 'the postmaster started again')
    t.same(await query(uri(password), ca, 'SELECT v FROM kept'), [{ v: 'survives' }])
    t.equal((await app.inject('/instances/daytwo')).json().state, 'running')
  })

  await t.test('stop refuses connections, health says stopped; start brings the data back', async t => {
    const stop = await app.inject({ method: 'POST', url: '/instances/daytwo/stop' })
    t.equal(stop.statusCode, 202)
    t.equal((await finished(app, stop.json().operation.id)).status, 'succeeded')
    const stopped = (await app.inject('/instances/daytwo')).json()
    t.match(stopped, { state: 'stopped', health: 'stopped' })
    await t.rejects(query(uri(password), ca, 'SELECT 1'), { code: 'ECONNREFUSED' })
    t.equal((await app.inject({ method: 'POST', url: '/instances/daytwo/stop' })).statusCode, 409, 'stopping a stopped instance says so')
    t.equal((await app.inject({ method: 'POST', url: '/instances/daytwo/restart' })).statusCode, 409, 'a restart needs it started first')
    const start = await app.inject({ method: 'POST', url: '/instances/daytwo/start' })
    t.equal(start.statusCode, 202)
    t.equal((await finished(app, start.json().operation.id)).status, 'succeeded')
    t.same(await query(uri(password), ca, 'SELECT v FROM kept'), [{ v: 'survives' }])
    await pollUntil(async () => (await app.inject('/instances/daytwo')).json(), i => i.health === 'healthy', { what: 'healthy after start', timeoutMs: 30_000 })
  })

  await t.test('a password reset: the old one is refused, the new one works, health stays healthy', async t => {
    const checksBefore = (await app.inject('/instances/daytwo/health?limit=500')).json().checks.length
    const res = await app.inject({ method: 'POST', url: '/instances/daytwo/reset-password', payload: { password: 'n3w:p@ss/word#?%x' }, headers: { 'content-type': 'application/json' } })
    t.equal(res.statusCode, 202)
    const body = res.json()
    t.same(Object.keys(body).slice(0, 2), ['password', 'connection_uri'], 'the password and a ready-to-paste URI come first')
    t.equal(body.password, 'n3w:p@ss/word#?%x')
    t.match(body.connection_uri, /^postgresql:\/\/postgres:n3w%3Ap%40ss%2Fword%23%3F%25x@127\.0\.0\.1:\d+\/postgres\?sslmode=require$/)
    t.equal((await finished(app, body.operation.id)).status, 'succeeded')
    t.same(await query(body.connection_uri, ca, 'SELECT 1 AS one'), [{ one: 1 }], 'the ready-to-paste URI connects as it is')
    await t.rejects(query(uri(password), ca, 'SELECT 1'), { code: '28P01' }, 'the old password is refused')
    const after = await pollUntil(async () => (await app.inject('/instances/daytwo/health?limit=500')).json(), h => h.checks.length >= checksBefore + 3, { what: 'three more checks', timeoutMs: 30_000 })
    t.equal(after.health, 'healthy')
    t.same(after.checks.slice(0, after.checks.length - checksBefore).filter((c: { ok: boolean }) => !c.ok), [], 'no check failed through the change')
    const again = await app.inject({ method: 'GET', url: '/instances/daytwo' })
    t.notMatch(again.body, /n3w:p@ss|n3w%3Ap/, 'never shown again')
  })

  const newPassword = 'n3w:p@ss/word#?%x'
  await t.test('parameters: a reload-time setting applies at once; a restart-time one waits for a restart', async t => {
    const res = await app.inject({ method: 'PATCH', url: '/instances/daytwo', payload: { parameters: { work_mem: '64MB', shared_buffers: '192MB' } }, headers: { 'content-type': 'application/merge-patch+json' } })
    t.equal(res.statusCode, 202, res.body)
    t.equal((await finished(app, res.json().operation.id)).status, 'succeeded')
    t.same(await query(uri(newPassword), ca, 'SHOW work_mem'), [{ work_mem: '64MB' }])
    t.same(await query(uri(newPassword), ca, 'SHOW shared_buffers'), [{ shared_buffers: '128MB' }], 'not yet')
    t.match((await app.inject('/instances/daytwo')).json(), { pending_restart: true, parameters: { work_mem: '64MB', shared_buffers: '192MB' } })
    const restart = await app.inject({ method: 'POST', url: '/instances/daytwo/restart' })
    t.equal((await finished(app, restart.json().operation.id)).status, 'succeeded')
    t.same(await query(uri(newPassword), ca, 'SHOW shared_buffers'), [{ shared_buffers: '192MB' }])
    t.equal((await app.inject('/instances/daytwo')).json().pending_restart, false)

    const unknown = await app.inject({ method: 'PATCH', url: '/instances/daytwo', payload: { parameters: { wrok_mem: '1MB' } } })
    t.equal(unknown.statusCode, 422)
    t.match(unknown.json().errors, [{ field: 'body.parameters.wrok_mem', message: /not a PostgreSQL parameter/ }])
    const bad = await app.inject({ method: 'PATCH', url: '/instances/daytwo', payload: { parameters: { work_mem: 'lots', max_connections: 0, log_min_messages: 'loud', ssl: 'off' } } })
    t.equal(bad.statusCode, 422)
    t.same(bad.json().errors.map((e: { field: string }) => e.field).sort(), ['body.parameters.log_min_messages', 'body.parameters.max_connections', 'body.parameters.ssl', 'body.parameters.work_mem'])
    t.match(bad.json().errors.find((e: { field: string }) => e.field === 'body.parameters.work_mem').message, /memory units/)
    const shrink = await app.inject({ method: 'PATCH', url: '/instances/daytwo', payload: { storage_size_gb: 0 } })
    t.equal(shrink.statusCode, 400)
    t.same(await query(uri(newPassword), ca, 'SHOW work_mem'), [{ work_mem: '64MB' }], 'a refused change changed nothing')
  })

  await t.test('deletion protection: DELETE is 409 saying how to lift it', async t => {
    const on = await app.inject({ method: 'PATCH', url: '/instances/daytwo', payload: { deletion_protection: true } })
    t.equal(on.statusCode, 200)
    t.equal(on.json().deletion_protection, true)
    const refused = await app.inject({ method: 'DELETE', url: '/instances/daytwo' })
    t.equal(refused.statusCode, 409)
    t.match(refused.json().detail, /deletion protection is on .* PATCH \/instances\/daytwo \{"deletion_protection": false\}/)
    t.equal((await app.inject({ method: 'DELETE', url: '/instances/daytwo?force=true' })).statusCode, 409, 'not even forced')
    t.equal((await app.inject({ method: 'PATCH', url: '/instances/daytwo', payload: { deletion_protection: false } })).statusCode, 200)
  })

  await t.test('three changes asked back to back run in order', async t => {
    const first = await app.inject({ method: 'POST', url: '/instances/daytwo/restart' })
    const second = await app.inject({ method: 'POST', url: '/instances/daytwo/stop' })
    const third = await app.inject({ method: 'POST', url: '/instances/daytwo/start' })
    t.same([first.statusCode, second.statusCode, third.statusCode], [202, 202, 202])
    t.equal(second.json().queued_behind, first.json().operation.id, 'the second says which one it waits for')
    const ops = await Promise.all([first, second, third].map(r => finished(app, r.json().operation.id)))
    t.same(ops.map(o => o.status), ['succeeded', 'succeeded', 'succeeded'])
    const times = await app.db.query<{ id: string, started_at: Date, finished_at: Date }>(
      'SELECT id, started_at, finished_at FROM toygres.operations WHERE id = ANY($1::uuid[])', [[first, second, third].map(r => r.json().operation.id)])
    const byId = new Map(times.rows.map(r => [r.id, r]))
    const [a, b, c] = [first, second, third].map(r => byId.get(r.json().operation.id)!)
    t.ok(a!.finished_at <= b!.started_at && b!.finished_at <= c!.started_at, 'each started after the one before finished')
    t.equal((await app.inject('/instances/daytwo')).json().state, 'running')
    const list = (await app.inject('/instances/daytwo/operations?limit=3')).json()
    t.same(list.items.map((o: { kind: string }) => o.kind), ['start', 'stop', 'restart'], 'newest first')
  })

  await t.test('cancel: a pending change ends at once and the instance can be acted on again; a finished one is 409', async t => {
    const hold = await app.inject({ method: 'POST', url: '/instances/daytwo/restart' })
    const queued = await app.inject({ method: 'POST', url: '/instances/daytwo/stop' })
    const cancelled = await app.inject({ method: 'POST', url: `/operations/${queued.json().operation.id}/cancel` })
    t.equal(cancelled.statusCode, 202)
    t.equal((await finished(app, queued.json().operation.id)).status, 'cancelled')
    t.equal((await finished(app, hold.json().operation.id)).status, 'succeeded')
    t.equal((await app.inject('/instances/daytwo')).json().state, 'running', 'the stop never happened')
    const late = await app.inject({ method: 'POST', url: `/operations/${hold.json().operation.id}/cancel` })
    t.equal(late.statusCode, 409)
    t.match(late.json().detail, /already finished \(succeeded\)/)
  })

  const del = await app.inject({ method: 'DELETE', url: '/instances/daytwo' })
  t.equal(del.statusCode, 202)
  await pollUntil(() => app.inject('/instances/daytwo'), r => r.statusCode === 404, { what: 'gone', timeoutMs: 60_000 })
})
