// No operation stays running for good: one whose run's pg-boss job was
// given up on (its retry limit reached while the run held the lease) is
// failed, saying so, and the next operation on its key runs; one between
// runs whose wake-up job is gone gets a new one.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { orchestration, queueName } from '../../src/engine/index.ts'
import { claimOperation } from '../../src/engine/sql/operations.ts'
import { until } from './fixtures/setup.ts'
import { engineDatabase } from './helpers.ts'

t.test('a job pg-boss gave up on fails its operation and frees its key; a lost wake-up is replaced', async t => {
  const db = await engineDatabase(t)
  // The API side starts and sweeps; the workers run everything but test::stuck, whose job only this test touches.
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const workers = await db.stack({ concurrency: 2 })
  workers.engine.register('test::after-abandoned', async ctx => ctx.step('go', async () => 'went'))
  workers.engine.register('test::asleep', async ctx => { await ctx.sleep(60_000); return 'woke' })
  await workers.engine.work()

  // An operation whose run holds the lease, and whose job pg-boss then marks failed (retry limit reached).
  const { operation: stuck } = await engine.start(orchestration('test::stuck'), {}, { key: 'k' })
  await pool.query(`UPDATE pgboss.job SET state = 'active' WHERE data->>'operationId' = $1`, [stuck.id])
  const { rows: [job] } = await pool.query<{ id: string }>(`SELECT id::text FROM pgboss.job WHERE data->>'operationId' = $1`, [stuck.id])
  t.ok(await claimOperation(pool, stuck.id, randomUUID(), job!.id), 'a run holds it')
  const { operation: next } = await engine.start(orchestration('test::after-abandoned'), {}, { key: 'k' })
  t.same(await engine.sweepAbandoned(), { failed: 0, woken: 0 }, 'nothing to do while its job lives')
  await pool.query(`UPDATE pgboss.job SET state = 'failed' WHERE id = $1`, [job!.id])
  t.same(await engine.sweepAbandoned(), { failed: 1, woken: 0 })
  t.match(await engine.getOperation(stuck.id), { status: 'failed', error: { code: 'abandoned', message: /given up on after every retry/ } })
  t.equal((await engine.waitFor(next.id, { timeoutMs: 30_000 })).status, 'succeeded', 'the next operation on the key ran')

  // An operation asleep (no lease) whose timer job is gone.
  const { operation: asleep } = await engine.start(orchestration('test::asleep'), {}, { key: 'nap' })
  await until(() => engine.getSteps(asleep.id), steps => steps.some(s => s.status === 'sleeping'), 'asleep on a durable timer')
  await pool.query(`DELETE FROM pgboss.job WHERE name = $1 AND data->>'operationId' = $2 AND state = 'created'`, [queueName('test::asleep'), asleep.id])
  t.same(await engine.sweepAbandoned(), { failed: 0, woken: 1 })
  const { rows: [woken] } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'operationId' = $1 AND state IN ('created', 'active', 'completed')`, [asleep.id])
  t.ok(woken!.n >= 1, 'a job will run it again (and it goes back to sleep, as its timer says)')
  await engine.cancel(asleep.id)
  t.equal((await engine.waitFor(asleep.id, { timeoutMs: 30_000 })).status, 'cancelled')
})
