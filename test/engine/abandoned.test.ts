// No operation stays running or pending for good: one whose runs keep dying
// (its lease lapsed maxTakeovers times in a row) is failed, saying so, and
// the next operation on its key runs; a running one between runs without a
// wake-up time, and a pending one whose start job is gone, are woken.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { orchestration, queueName } from '../../src/engine/index.ts'
import { claimDue, claimOperation } from '../../src/engine/sql/operations.ts'
import { until } from './fixtures/setup.ts'
import { engineDatabase } from './helpers.ts'

t.test('an operation whose runs keep dying is failed after maxTakeovers, and frees its key', async t => {
  const db = await engineDatabase(t)
  // The API side starts and sweeps; the workers run test::after-abandoned only.
  const { engine, pool } = await db.stack({ concurrency: 0, maxTakeovers: 3 })
  const workers = await db.stack({ concurrency: 2, maxTakeovers: 3 })
  workers.engine.register('test::after-abandoned', async ctx => ctx.step('go', async () => 'went'))
  await workers.engine.work()

  const { operation: doomed } = await engine.start(orchestration('test::doomed'), {}, { key: 'k', idempotencyKey: 'doomed' })
  const { operation: next } = await engine.start(orchestration('test::after-abandoned'), {}, { key: 'k' })
  // With an idempotency key the start is queued with a job, which a first run claims here by hand.
  // Each run's process dies at once: its lease lapses (-1 s) and the next run takes it over.
  t.ok(await claimOperation(pool, doomed.id, randomUUID(), 'job-1', -1), 'a first run holds it')
  for (let takeover = 1; takeover <= 3; takeover++) {
    t.same(await engine.sweepAbandoned(), { failed: 0, woken: 0 }, `not yet after ${takeover - 1} takeovers`)
    const [run] = await claimDue(pool, 'test::doomed', 10, -1, 3)
    t.equal(run?.id, doomed.id, `takeover ${takeover}`)
  }
  t.same(await claimDue(pool, 'test::doomed', 10, -1, 3), [], 'no fourth takeover')
  t.same(await engine.sweepAbandoned(), { failed: 1, woken: 0 })
  t.match(await engine.getOperation(doomed.id), { status: 'failed', error: { code: 'abandoned', message: /runs kept dying \(3 in a row/ } })
  t.equal((await engine.waitFor(next.id, { timeoutMs: 30_000 })).status, 'succeeded', 'the next operation on the key ran')
})

t.test('a run that settles cleanly starts the count again', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0, maxTakeovers: 2 })
  const { operation } = await engine.start(orchestration('test::flaky'), {}, { key: 'f', idempotencyKey: 'flaky' })
  t.ok(await claimOperation(pool, operation.id, randomUUID(), 'job-1', -1))
  const [run] = await claimDue(pool, 'test::flaky', 10, 10, 2)
  t.equal(run?.id, operation.id, 'taken over once')
  await pool.query("UPDATE toygres.operations SET lease = NULL, lease_until = NULL, takeovers = 0, wake_at = now() WHERE id = $1 AND lease = $2", [operation.id, run!.lease])
  const { rows: [row] } = await pool.query<{ takeovers: number }>('SELECT takeovers FROM toygres.operations WHERE id = $1', [operation.id])
  t.equal(row!.takeovers, 0)
})

t.test('lost wake-ups: a sleeper without a wake-up time and a pending operation without its start job are woken', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const workers = await db.stack({ concurrency: 2 })
  workers.engine.register('test::asleep', async ctx => { await ctx.sleep(60_000); return 'woke' })
  workers.engine.register('test::never-picked', async ctx => ctx.step('x', async () => 'x'))
  await workers.engine.work()

  const { operation: asleep } = await engine.start(orchestration('test::asleep'), {}, { key: 'nap' })
  await until(() => engine.getSteps(asleep.id), steps => steps.some(s => s.status === 'sleeping'), 'asleep on a durable timer')
  // As if its wake-up time were lost (an operation from before timers lived on the row, whose job is gone).
  await pool.query('UPDATE toygres.operations SET wake_at = NULL WHERE id = $1', [asleep.id])
  t.same(await engine.sweepAbandoned(), { failed: 0, woken: 1 })
  await until(async () => (await engine.getOperation(asleep.id))?.attempts ?? 0, n => n >= 2, 'woken: it runs again (and goes back to sleep, as its timer says)')
  await engine.cancel(asleep.id)
  t.equal((await engine.waitFor(asleep.id, { timeoutMs: 30_000 })).status, 'cancelled')

  // A pending operation whose start job was deleted, on a free key (a start with an idempotency key is
  // delivered by a job; one without waits due on its row, which the fetch reads).
  await workers.engine.stop()
  const { operation: orphan } = await engine.start(orchestration('test::never-picked'), {}, { key: 'orphan', idempotencyKey: 'orphan' })
  await pool.query('DELETE FROM pgboss.job WHERE name = $1', [queueName('test::never-picked')])
  t.same(await engine.sweepAbandoned(), { failed: 0, woken: 1 })
  t.same(await engine.sweepAbandoned(), { failed: 0, woken: 0 }, 'once: it has a job now')
  const revived = await db.stack({ concurrency: 1 })
  revived.engine.register('test::never-picked', async ctx => ctx.step('x', async () => 'x'))
  await revived.engine.work()
  t.equal((await engine.waitFor(orphan.id, { timeoutMs: 30_000 })).status, 'succeeded')
})
