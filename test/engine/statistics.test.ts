// The planner's view of the engine's tables: a table that outgrew what the
// planner believes (its pages as of the last ANALYZE) is analyzed by a
// worker within about a second, so plans cached while it was small are made
// again (src/engine/statistics.ts says why that matters); a table that grew
// by less than that keeps its statistics.
import type pg from 'pg'
import t from 'tap'
import { PlannerStatistics } from '../../src/engine/statistics.ts'
import { engineDatabase } from './helpers.ts'
import { logger, until } from './fixtures/setup.ts'

/** The planner's pages (pg_class.relpages) and the file's pages now, for toygres.operations. */
async function pages (pool: pg.Pool): Promise<{ planner: number, actual: number }> {
  const { rows } = await pool.query<{ planner: number, actual: number }>(
    `SELECT relpages AS planner, (pg_relation_size(oid) / current_setting('block_size')::bigint)::int AS actual
     FROM pg_class WHERE oid = 'toygres.operations'::regclass`)
  return rows[0]!
}

/** Grows toygres.operations by `n` finished rows in one statement. */
async function grow (pool: pg.Pool, n: number): Promise<void> {
  await pool.query(`INSERT INTO toygres.operations (id, name, key, status, input, finished_at)
    SELECT gen_random_uuid(), 'test::grown', 'grown-' || g, 'succeeded', jsonb_build_object('pad', repeat('x', 200)), now()
    FROM generate_series(1, $1::int) g`, [n])
}

t.test('a table that outgrew the planner\'s view is analyzed, once; one that did not is left alone', async t => {
  const db = await engineDatabase(t)
  const { pool } = await db.stack({ concurrency: 0 })
  // Only the check under test may analyze it (autovacuum could, at its next visit).
  await pool.query('ALTER TABLE toygres.operations SET (autovacuum_enabled = false)')
  await pool.query('ANALYZE toygres.operations')
  const statistics = new PlannerStatistics(pool, logger)
  await grow(pool, 10)
  await statistics.check()
  t.equal(statistics.stats.analyzed, 0, 'a few rows more: nothing to do')

  await grow(pool, 5000)
  const before = await pages(pool)
  t.ok(before.actual > 2 * before.planner + 16, `grown: ${before.actual} pages, the planner believes ${before.planner}`)
  await statistics.check()
  t.equal(statistics.stats.analyzed, 1, 'analyzed')
  const after = await pages(pool)
  t.equal(after.planner, after.actual, 'the planner\'s pages are the file\'s again')
  await statistics.check()
  t.equal(statistics.stats.analyzed, 1, 'and not again while it stays that size')

  // Larger by many pages, but not twice the planner's count: a steady table's churn does not analyze it.
  await grow(pool, 1500)
  const grown = await pages(pool)
  t.ok(grown.actual - grown.planner > 16 && grown.actual < 2 * grown.planner, `${grown.actual} pages against ${grown.planner}`)
  await statistics.check()
  t.equal(statistics.stats.analyzed, 1, 'not analyzed below twice the size')
})

t.test('a working engine analyzes its tables as a burst grows them, without being asked', async t => {
  const db = await engineDatabase(t)
  const { pool, engine } = await db.stack({ concurrency: 1 })
  await engine.work()
  await pool.query('ALTER TABLE toygres.operations SET (autovacuum_enabled = false)')
  await pool.query('ANALYZE toygres.operations')
  await grow(pool, 5000)
  // Autovacuum is off for it here, and would look once a minute at most (autovacuum_naptime): only the engine's check can.
  const seen = await until(() => pages(pool), p => p.planner === p.actual, 'the planner\'s pages to catch up', 10_000)
  t.ok(seen.planner > 16, `${seen.planner} pages`)
})
