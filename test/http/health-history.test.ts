// GET /instances/{name}/health, a page at a time back through the retained
// checks (`cursor`, `since`, `next_cursor`), on the real app and database.
// The checks are written as the monitor writes them (toygres.health_checks),
// at chosen times, so pages and ties are exact.
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildTestApp } from '../helpers/app.ts'

interface Check { checked_at: string, ok: boolean, response_time_ms: number, error: string | null }
interface Report { name: string, checks: Check[], next_cursor: string | null }

async function instanceWithChecks (t: Parameters<typeof buildTestApp>[0], count: number): Promise<{ app: FastifyInstance, id: string }> {
  const app = await buildTestApp(t)
  if ((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'pulse' } })).statusCode !== 202) throw new Error('create failed')
  const { rows: [row] } = await app.db.query<{ id: string }>("SELECT id FROM toygres.instances WHERE name = 'pulse'")
  // One a minute back from a second ago, at .123456 s (microseconds a Date cannot hold); response_time_ms
  // numbers them, 0 the newest. Checks 10, 20, 30… share their time with the one before, across page boundaries.
  await app.db.query(`INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms, error)
    SELECT $1, date_trunc('second', now()) - interval '0.876544 seconds' - make_interval(mins => i - (i > 0 AND i % 10 = 0)::int),
      i % 7 <> 3, i, CASE WHEN i % 7 = 3 THEN 'refused' END
    FROM generate_series(0, $2 - 1) i ORDER BY i DESC`, [row!.id, count])
  return { app, id: row!.id }
}
const get = async (app: FastifyInstance, query: string): Promise<Report> => {
  const res = await app.inject(`/instances/pulse/health?${query}`)
  if (res.statusCode !== 200) throw new Error(`${query}: ${res.statusCode} ${res.body}`)
  return res.json()
}
/** Every page of `query`, following next_cursor; `between` runs after each page. */
async function everyPage (app: FastifyInstance, query: string, between: () => Promise<void> = async () => {}): Promise<{ checks: Check[], pages: number }> {
  const checks: Check[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const report = await get(app, `${query}${cursor ? `&cursor=${cursor}` : ''}`)
    checks.push(...report.checks)
    cursor = report.next_cursor
    await between()
    if (++pages > 50) throw new Error('the cursor does not move on')
  } while (cursor)
  return { checks, pages }
}

t.test('the whole retained history, a page at a time: newest first, none repeated or skipped while checks arrive', async t => {
  const { app, id } = await instanceWithChecks(t, 45)
  const first = await get(app, '')
  t.equal(first.checks.length, 20, 'the default limit, as before')
  t.same(first.checks.map(c => c.response_time_ms), Array.from({ length: 20 }, (_, i) => i), 'newest first')
  t.type(first.next_cursor, 'string', 'older checks follow')

  let arrived = 0
  const { checks, pages } = await everyPage(app, 'limit=10', async () => {
    await app.db.query("INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms) VALUES ($1, now(), true, $2)", [id, 1000 + arrived++])
  })
  t.equal(pages, 5)
  t.same(checks.map(c => c.response_time_ms), Array.from({ length: 45 }, (_, i) => i), 'each once, in order: the ones recorded meanwhile are newer than the first page')
  t.equal((await get(app, 'limit=500')).checks.length, 45 + arrived)
  const last = await get(app, 'limit=500')
  t.equal(last.next_cursor, null, 'no cursor after the last page')
})

t.test('since: only the checks at or after a time, paged the same way', async t => {
  const { app } = await instanceWithChecks(t, 45)
  const all = (await get(app, 'limit=500')).checks
  const since = all[29]!.checked_at
  const inWindow = all.filter(c => c.checked_at >= since)
  t.ok(inWindow.length >= 30 && inWindow.length < 45)
  const { checks } = await everyPage(app, `limit=7&since=${encodeURIComponent(since)}`)
  t.same(checks, inWindow, 'every check since then, and none older')
  t.same((await get(app, `since=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`)).checks, [], 'none in the future')
})

t.test('a bad limit, cursor or since is a 400 naming the field', async t => {
  const { app } = await instanceWithChecks(t, 3)
  const forged = Buffer.from(JSON.stringify({ at: '2026-01-01T00:00:00Z', id: '1; DROP TABLE x' })).toString('base64url')
  const cases: Array<[string, string]> = [
    ['limit=0', 'querystring.limit'], ['limit=501', 'querystring.limit'],
    ['cursor=garbage', 'querystring.cursor'], [`cursor=${forged}`, 'querystring.cursor'],
    ['since=yesterday', 'querystring.since'], ['before=2026-01-01T00:00:00Z', 'querystring.before']
  ]
  for (const [query, field] of cases) {
    const res = await app.inject(`/instances/pulse/health?${query}`)
    t.equal(res.statusCode, 400, query)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
    t.match(res.json(), { status: 400, errors: [{ field }] }, `${query}: names ${field}`)
  }
})
