// GET /operations: every instance's operations, newest first, a page at a
// time, on the real app and a real database (no worker runs: operations
// stay as they were started, or end as the test cancels them).
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { linkOperation } from '../../src/db/instance-events.ts'
import { inTransaction } from '../../src/db/queryable.ts'
import { orchestration } from '../../src/engine/index.ts'
import { operationPageStatement } from '../../src/engine/sql/listing.ts'
import { monitorKey } from '../../src/instances/monitors.ts'
import { orchestrationNames } from '../../src/orchestrations/names.ts'
import { buildTestApp } from '../helpers/app.ts'

interface Item { id: string, name: string, key: string, kind: string, instance: string | null, status: string, created_at: string, steps: unknown[] }
interface Page { items: Item[], next_cursor: string | null }

const create = async (app: FastifyInstance, name: string): Promise<string> => {
  const res = await app.inject({ method: 'POST', url: '/instances', payload: { name } })
  if (res.statusCode !== 202) throw new Error(`create ${name}: ${res.statusCode} ${res.body}`)
  return res.json().operation.id
}
const list = async (app: FastifyInstance, query = ''): Promise<Page> => {
  const res = await app.inject(`/operations${query ? `?${query}` : ''}`)
  if (res.statusCode !== 200) throw new Error(`GET /operations?${query}: ${res.statusCode} ${res.body}`)
  return res.json()
}
/** Every page, following next_cursor; `between` runs after each page. */
async function everyPage (app: FastifyInstance, path: string, between: (page: number) => Promise<void> = async () => {}): Promise<{ ids: string[], pages: number }> {
  const ids: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await app.inject(`${path}${path.includes('?') ? '&' : '?'}${cursor ? `cursor=${cursor}` : ''}`)
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
    const page = res.json() as Page
    ids.push(...page.items.map(i => i.id))
    cursor = page.next_cursor
    await between(++pages)
    if (pages > 50) throw new Error(`${path}: the cursor does not move on`)
  } while (cursor)
  return { ids, pages }
}
/** A health monitor for the instance, as startMonitor starts one (untraced, on the monitor's key). */
const startMonitor = async (app: FastifyInstance, name: string): Promise<string> => {
  const { rows: [row] } = await app.db.query<{ id: string, namespace: string }>('SELECT id, namespace FROM toygres.instances WHERE name = $1', [name])
  const { operation } = await app.engine.start(orchestration(orchestrationNames.HEALTH_CHECK), { instance_id: row!.id, name, namespace: row!.namespace, auto_restart: false }, { key: monitorKey(row!.id) })
  return operation.id
}

t.test('newest first; paging neither repeats nor skips one while operations start between pages', async t => {
  const app = await buildTestApp(t)
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
  const ops = []
  for (const name of names) ops.push(await create(app, name))
  const first = await list(app)
  t.same(first.items.map(i => i.instance), [...names].reverse(), 'newest first')
  t.same(first.items.map(i => i.id), [...ops].reverse())
  t.match(first.items[0], { kind: 'create', key: 'echo', instance: 'echo', status: 'pending', steps: [] }, 'an item: the operation without steps, its kind and instance')
  t.equal(first.next_cursor, null, 'one page holds them all')

  const late: string[] = []
  const { ids, pages } = await everyPage(app, '/operations?limit=2', async () => { late.push(await create(app, `late-${late.length}`)) })
  t.equal(pages, 3)
  t.same(ids, [...ops].reverse(), 'every operation once, in order; the ones started meanwhile sort before the first page')
  t.same((await list(app, 'limit=3')).items.map(i => i.id), [...late].reverse(), 'and lead the list afterwards')
})

t.test('operations started in one transaction share created_at: the cursor keeps its microseconds', async t => {
  const app = await buildTestApp(t)
  await create(app, 'solo')
  const { rows: [solo] } = await app.db.query<{ id: string }>("SELECT id FROM toygres.instances WHERE name = 'solo'")
  const together = await inTransaction(app.db, async client => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const { operation } = await app.engine.start(orchestration(orchestrationNames.UPDATE_INSTANCE), { instance_id: solo!.id, name: 'solo', namespace: 'toygres' }, { key: 'solo', db: client, trace: true })
      await linkOperation(client, solo!.id, operation.id, 'update')
      ids.push(operation.id)
    }
    return ids
  })
  const { rows: [shared] } = await app.db.query<{ n: number }>('SELECT count(DISTINCT created_at)::int AS n FROM toygres.operations WHERE id = ANY($1)', [together])
  t.equal(shared!.n, 1, 'one created_at for the five')
  const all = await everyPage(app, '/operations?limit=2')
  t.equal(all.ids.length, 6)
  t.same([...all.ids].sort(), [...together, ...(await list(app, 'kind=create')).items.map(i => i.id)].sort(), 'GET /operations: each once')
  const own = await everyPage(app, '/instances/solo/operations?limit=2')
  t.same([...own.ids].sort(), [...all.ids].sort(), 'GET /instances/{name}/operations: each once too')
})

t.test('filters: status, kind, instance; health checks only when asked for by kind', async t => {
  const app = await buildTestApp(t)
  const creates: Record<string, string> = {}
  for (const name of ['ant', 'bee', 'cat']) creates[name] = await create(app, name)
  const monitors = { ant: await startMonitor(app, 'ant'), bee: await startMonitor(app, 'bee') }
  t.equal((await app.inject({ method: 'POST', url: `/operations/${creates.bee}/cancel` })).statusCode, 202)
  const deleted = await app.inject({ method: 'DELETE', url: '/instances/cat' })
  t.equal(deleted.statusCode, 202)
  const deleteOp = deleted.json().operation.id as string

  const all = await list(app)
  t.same(all.items.map(i => `${i.kind} ${i.instance}`), ['delete cat', 'create cat', 'create bee', 'create ant'], 'no health check unless asked for')
  t.same((await list(app, 'status=cancelled')).items.map(i => i.id).sort(), [creates.bee, creates.cat].sort(), 'status: cancelled (bee by request, cat by its delete)')
  t.same((await list(app, 'status=pending')).items.map(i => i.id), [deleteOp, creates.ant])
  t.same((await list(app, 'kind=delete')).items.map(i => i.id), [deleteOp])
  t.same((await list(app, 'kind=create')).items.map(i => i.instance), ['cat', 'bee', 'ant'])
  t.same((await list(app, 'instance=cat')).items.map(i => i.id), [deleteOp, creates.cat])
  t.same((await list(app, 'instance=cat&kind=create&status=cancelled')).items.map(i => i.id), [creates.cat], 'filters combine')
  t.same((await list(app, 'instance=nobody')).items, [])

  const checks = await list(app, 'kind=health-check')
  t.same(checks.items.map(i => i.id), [monitors.bee, monitors.ant], 'kind=health-check lists the monitors, newest first')
  t.match(checks.items[0], { kind: 'health-check', instance: 'bee', key: monitorKey((await app.db.query("SELECT id FROM toygres.instances WHERE name = 'bee'")).rows[0].id) })
  t.same((await list(app, 'kind=health-check&instance=ant')).items.map(i => i.id), [monitors.ant], 'the monitor of the instance with that name')
  t.same((await list(app, 'kind=health-check&instance=cat')).items, [], 'an instance without a monitor')
  t.same((await list(app, 'instance=ant')).items.map(i => i.id), [creates.ant], 'an instance\'s list leaves its monitor out too')
})

t.test('an operation keeps its instance\'s name after the instance is gone', async t => {
  const app = await buildTestApp(t)
  const op = await create(app, 'fleeting')
  t.equal((await app.inject({ method: 'DELETE', url: '/instances/fleeting?force=true' })).statusCode, 200)
  t.equal((await app.inject('/instances/fleeting')).statusCode, 404, 'the row is gone')
  t.match((await list(app)).items, [{ id: op, instance: 'fleeting', kind: 'create' }])
  t.match((await list(app, 'instance=fleeting')).items, [{ id: op }], 'and is found by that name')
})

t.test('a bad limit, cursor, status, kind or instance is a 400 naming the field', async t => {
  const app = await buildTestApp(t)
  const forged = Buffer.from(JSON.stringify({ at: '2026-01-01T00:00:00.000000Z', id: 'not-a-uuid' })).toString('base64url')
  const cases: Array<[string, string]> = [
    ['limit=0', 'querystring.limit'], ['limit=101', 'querystring.limit'], ['limit=ten', 'querystring.limit'],
    ['cursor=garbage', 'querystring.cursor'], [`cursor=${forged}`, 'querystring.cursor'],
    ['status=sleeping', 'querystring.status'], ['kind=backup', 'querystring.kind'], ['instance=Bad_Name', 'querystring.instance']
  ]
  for (const [query, field] of cases) {
    const res = await app.inject(`/operations?${query}`)
    t.equal(res.statusCode, 400, query)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${query}: problem+json`)
    t.match(res.json(), { status: 400, errors: [{ field }] }, `${query}: names ${field}`)
  }
  t.equal((await app.inject('/operations?sort=oldest')).statusCode, 400, 'an unknown parameter')
})

t.test('behind the bearer token like every other route', async t => {
  const app = await buildTestApp(t, { TOYGRES_API_TOKEN: 'operations-token-0123456789' })
  const anonymous = await app.inject('/operations')
  t.equal(anonymous.statusCode, 401)
  t.match(anonymous.headers['content-type'], /^application\/problem\+json/)
  t.equal((await app.inject({ url: '/operations', headers: { authorization: 'Bearer operations-token-0123456789' } })).statusCode, 200)
})

t.test('on a few thousand operations the list reads the partial indexes of 011', async t => {
  const app = await buildTestApp(t)
  // 3,000 instance operations over a day (a third of them on one busy instance), and 1,000 monitors (untraced).
  await app.db.query(`INSERT INTO toygres.operations (id, name, key, status, input, trace, created_at)
    SELECT gen_random_uuid(), $1, CASE WHEN i % 3 = 0 THEN 'busy-db' ELSE 'db-' || (i % 300) END, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
      '{}', true, now() - make_interval(secs => i * 30)
    FROM generate_series(1, 3000) i`, [orchestrationNames.CREATE_INSTANCE])
  await app.db.query(`INSERT INTO toygres.operations (id, name, key, status, input, trace, created_at)
    SELECT gen_random_uuid(), $1, 'health:' || gen_random_uuid(), 'running', '{}', false, now() - make_interval(secs => i)
    FROM generate_series(1, 1000) i`, [orchestrationNames.HEALTH_CHECK])
  await app.db.query('ANALYZE toygres.operations')
  const page = await list(app, 'limit=20')
  const before = JSON.parse(Buffer.from(page.next_cursor!, 'base64url').toString()) as { at: string, id: string }
  const plan = async (q: Parameters<typeof operationPageStatement>[0]): Promise<string> => {
    const s = operationPageStatement(q)
    const { rows } = await app.db.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN ${s.text}`, values: s.values })
    return rows.map(r => r['QUERY PLAN']).join('\n')
  }
  for (const [what, q, index] of [
    ['the first page', { limit: 20, traced: true }, 'operations_recent'],
    ['a later page', { limit: 20, traced: true, before }, 'operations_recent'],
    ['one kind', { limit: 20, traced: true, name: orchestrationNames.CREATE_INSTANCE }, 'operations_recent'],
    ['one busy instance', { limit: 20, traced: true, key: 'busy-db' }, 'operations_recent_by_key']
  ] as const) {
    const text = await plan(q)
    t.comment(`${what}:\n${text}`)
    t.match(text, new RegExp(`Index Scan Backward using ${index} `), `${what}: ${index}`)
    t.notMatch(text, /Sort|Seq Scan/, `${what}: no sort, no sequential scan`)
  }
})
