import { orchestration } from '../../src/engine/index.ts'
import t from 'tap'
import { engineDatabase } from './helpers.ts'
import { until } from './fixtures/setup.ts'

// The promise (src/engine/README.md): operations on one key never overlap,
// and an operation never runs before one on its key whose start had
// committed before its own start began. Starts racing each other have no
// order between them; the test starts each key's operations one after
// another (awaiting each start), and the two keys concurrently.
t.test('operations on one key never run steps concurrently, and run in start order', async t => {
  const db = await engineDatabase(t)
  const a = await db.stack({ concurrency: 4 })
  const b = await db.stack({ concurrency: 4 })
  await a.pool.query(`CREATE TABLE spans (operation_id uuid, key text, step text,
    started_at timestamptz, finished_at timestamptz)`)
  for (const { engine, pool } of [a, b]) {
    for (const name of ['test::create', 'test::delete']) {
      engine.register(name, async ctx => {
        for (const step of ['s1', 's2', 's3']) {
          await ctx.step(step, async () => {
            const started = new Date()
            // Give a concurrent run every chance to overlap.
            await pool.query('SELECT pg_sleep(0.01)')
            await pool.query('INSERT INTO spans VALUES ($1, $2, $3, $4, clock_timestamp())', [ctx.operationId, ctx.key, step, started])
          })
        }
      })
    }
    await engine.work()
  }
  const startKey = async (key: string, offset: number): Promise<string[]> => {
    const out: string[] = []
    for (let i = offset; i < 12; i += 2) {
      // Alternate engines: starts from two processes, in a known order.
      const engine = i % 4 < 2 ? a.engine : b.engine
      out.push((await engine.start(orchestration(i % 3 === 0 ? 'test::delete' : 'test::create'), { i }, { key })).operation.id)
    }
    return out
  }
  const ids = (await Promise.all([startKey('alpha', 0), startKey('beta', 1)])).flat()
  for (const id of ids) t.equal((await a.engine.waitFor(id, { timeoutMs: 60_000 })).status, 'succeeded')
  const { rows: overlaps } = await a.pool.query(`
    SELECT x.operation_id AS a, y.operation_id AS b FROM
      (SELECT operation_id, key, min(started_at) s, max(finished_at) f FROM spans GROUP BY 1, 2) x
      JOIN (SELECT operation_id, key, min(started_at) s, max(finished_at) f FROM spans GROUP BY 1, 2) y
      ON x.key = y.key AND x.operation_id < y.operation_id AND x.s < y.f AND y.s < x.f`)
  t.same(overlaps, [], 'no two operations on a key overlap')
  const { rows: order } = await a.pool.query(`
    SELECT o.key, array_agg(o.id ORDER BY s.first) AS by_run, array_agg(o.id ORDER BY o.created_at, o.id) AS by_start
    FROM toygres.operations o JOIN (SELECT operation_id, min(started_at) AS first FROM spans GROUP BY 1) s ON s.operation_id = o.id
    GROUP BY o.key`)
  for (const r of order) t.same(r.by_run, r.by_start, `key ${r.key} ran in start order`)
  const { rows: [{ n }] } = await a.pool.query('SELECT count(*)::int AS n FROM spans')
  t.equal(n, 36, 'every step ran once')
})

t.test('a sleeping key holder gets its key back even when an earlier-started operation commits meanwhile', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  engine.register('test::napper', async ctx => {
    await ctx.step('a', async () => 'a')
    await ctx.sleep(300)
    return ctx.step('b', async () => 'b')
  })
  engine.register('test::after', async ctx => ctx.step('x', async () => 'x'))
  await engine.work()
  const early = await pool.connect()
  t.teardown(() => early.release())
  await early.query('BEGIN') // now() is fixed here: its operation sorts first
  const holder = await engine.start(orchestration('test::napper'), {}, { key: 'k' })
  await until(() => engine.getSteps(holder.operation.id), s => s[1]?.status === 'sleeping', 'holder asleep')
  const late = await engine.start(orchestration('test::after'), {}, { key: 'k', db: early })
  await early.query('COMMIT')
  // Compared in the database: microseconds apart can be the same JavaScript millisecond.
  const { rows: [sorted] } = await pool.query<{ earlier: boolean }>(
    'SELECT (SELECT created_at FROM toygres.operations WHERE id = $1) < (SELECT created_at FROM toygres.operations WHERE id = $2) AS earlier',
    [late.operation.id, holder.operation.id])
  t.ok(sorted!.earlier, 'the late commit sorts earlier')
  t.equal((await engine.waitFor(holder.operation.id, { timeoutMs: 20_000 })).status, 'succeeded')
  const after = await engine.waitFor(late.operation.id, { timeoutMs: 20_000 })
  t.equal(after.status, 'succeeded')
  t.ok(after.started_at && after.started_at >= ((await engine.getOperation(holder.operation.id))?.finished_at ?? new Date()), 'it ran after the holder ended')
})
