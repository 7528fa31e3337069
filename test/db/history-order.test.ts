// Histories read by id come back in the ids' numeric order. Each query
// returns its bigint id as text; an unqualified ORDER BY id would then sort
// that text column ("10" before "2"; PostgreSQL resolves ORDER BY names to
// output columns first), and a stream's cursor would step back and repeat
// events. Ten or more rows in a page cross from one digit to two.
import { pino } from 'pino'
import t from 'tap'
import { instanceEventsSince, listInstanceEvents } from '../../src/db/instance-events.ts'
import { listHealthChecks } from '../../src/db/health-checks.ts'
import { migrate } from '../../src/db/migrate.ts'
import { selectTraceEvents } from '../../src/engine/sql/operations.ts'
import { createTestDatabase, testPool } from '../helpers/db.ts'

const N = 12

const numeric = (ids: string[]): number[] => ids.map(Number)
const ascending = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1)

t.test('ids past 9 keep their numeric order in every history', async t => {
  const url = await createTestDatabase(t)
  await migrate(url, pino({ level: 'silent' }))
  const pool = testPool(t, url)
  const instance = crypto.randomUUID()
  await pool.query(
    `INSERT INTO toygres.instances (id, name, namespace, postgres_version, storage_size_gb, use_load_balancer, password_ciphertext, state)
     VALUES ($1, 'ordered', 'toygres', '18', 1, false, 'x', 'creating')`, [instance])
  // The insert writes event 1; each health flip one more.
  for (let i = 1; i < N; i++) await pool.query('UPDATE toygres.instances SET health = $2 WHERE id = $1', [instance, i % 2 ? 'healthy' : 'unhealthy'])

  t.same(numeric((await instanceEventsSince(pool, instance, '0', 500)).map(e => e.id)), ascending(N), 'one instance\'s events, oldest first')
  t.same(numeric((await instanceEventsSince(pool, null, '0', 500)).map(e => e.id)), ascending(N), 'every instance\'s events, oldest first')
  t.same(numeric((await instanceEventsSince(pool, instance, '0', 5)).map(e => e.id)), [1, 2, 3, 4, 5], 'a page is the oldest ones')
  t.same(numeric((await listInstanceEvents(pool, instance)).map(e => e.id)), ascending(N).reverse(), 'the history, newest first')

  const operation = crypto.randomUUID()
  await pool.query("INSERT INTO toygres.operations (id, name, key, trace) VALUES ($1, 'ordered', 'k', true)", [operation])
  for (let i = 0; i < N; i++) {
    await pool.query("INSERT INTO toygres.operation_events (operation_id, position, name, status, attempts, started_at) VALUES ($1, $2, 'step', 'succeeded', 1, now())", [operation, i])
  }
  t.same(numeric((await selectTraceEvents(pool, [operation], '0', 500)).map(e => e.id)), ascending(N), 'step events, oldest first')

  // Checks sharing one checked_at are told apart by id, newest first, and pages continue where the last ended.
  await pool.query(
    `INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms)
     SELECT $1, '2026-11-30T12:00:00Z', true, 1 FROM generate_series(1, $2)`, [instance, N])
  t.same(numeric((await listHealthChecks(pool, instance, 500)).map(c => c.id)), ascending(N).reverse(), 'checks, newest first')
  const paged: string[] = []
  for (let page = await listHealthChecks(pool, instance, 5); page.length > 0;) {
    paged.push(...page.map(c => c.id))
    const last = page.at(-1)!
    page = await listHealthChecks(pool, instance, 5, { before: { at: last.checked_at_us, id: last.id } })
  }
  t.same(numeric(paged), ascending(N).reverse(), 'paged: each check once, in order')
})
