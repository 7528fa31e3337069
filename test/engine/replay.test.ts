import { orchestration } from '../../src/engine/index.ts'
import t from 'tap'
import { engineDatabase } from './helpers.ts'
import { effectCounts, recordEffect } from './fixtures/setup.ts'

t.test('a completed step is not re-run when the orchestration resumes', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  engine.register<{ n: number }, unknown>('test::replay', async (ctx, input) => {
    const a = await ctx.step('one', async () => { await recordEffect(pool, ctx.operationId, 'one'); return { n: input.n + 1, at: new Date(0) } })
    const now = await ctx.now()
    const id = await ctx.uuid()
    // The durable timer ends this run; the next run replays everything above.
    await ctx.sleep(20)
    const b = await ctx.step('two', async () => { await recordEffect(pool, ctx.operationId, 'two'); return a.n * 10 })
    await ctx.step('nothing', async () => { await recordEffect(pool, ctx.operationId, 'nothing') })
    return { a, b, now, id }
  })
  await engine.work()
  const { operation, created } = await engine.start(orchestration('test::replay'), { n: 1 }, { key: 'k1' })
  t.equal(created, true)
  t.equal(operation.status, 'running', 'claimed by its own start: this engine had a slot free')
  const done = await engine.waitFor(operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  const out = done.output as { a: { n: number, at: string }, b: number, now: number, id: string }
  t.same(out.a, { n: 2, at: '1970-01-01T00:00:00.000Z' }, 'first run sees the JSON round trip too')
  t.equal(out.b, 20)
  t.ok(done.attempts >= 2, 'the sleep made a second run')
  t.same(await effectCounts(pool, operation.id), { one: 1, two: 1, nothing: 1 })
  const steps = await engine.getSteps(operation.id)
  t.same(steps.map(s => [s.position, s.name, s.status, s.attempts]), [
    [0, 'one', 'succeeded', 1], [1, '$now', 'succeeded', 1], [2, '$uuid', 'succeeded', 1],
    [3, '$sleep', 'succeeded', 1], [4, 'two', 'succeeded', 1], [5, 'nothing', 'succeeded', 1]
  ])
  t.equal(steps[1]?.output, out.now, 'ctx.now() replays the checkpointed value')
  t.equal(steps[2]?.output, out.id, 'ctx.uuid() replays the checkpointed value')
  t.equal(steps[5]?.output, null, 'undefined is stored as SQL NULL')
})

t.test('idempotent start returns the existing operation', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const first = await engine.start(orchestration('test::idem'), { x: 1 }, { key: 'k', idempotencyKey: 'req-1' })
  const again = await engine.start(orchestration('test::idem'), { x: 2 }, { key: 'k', idempotencyKey: 'req-1' })
  t.equal(first.created, true)
  t.equal(again.created, false)
  t.equal(again.operation.id, first.operation.id)
  t.same(again.operation.input, { x: 1 })
  // Inside a caller's transaction: rolled back, nothing remains, not even the job.
  const client = await pool.connect()
  await client.query('BEGIN')
  const inTx = await engine.start(orchestration('test::idem'), {}, { key: 'k', idempotencyKey: 'req-2', db: client })
  await client.query('ROLLBACK')
  client.release()
  t.equal(await engine.getOperation(inTx.operation.id), null)
  const { rows } = await pool.query("SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'test.idem'")
  t.equal(rows[0].n, 1, 'only the committed start enqueued a job')
})

t.test('continueAsNew restarts with fresh input and an empty history', async t => {
  const db = await engineDatabase(t)
  const { engine } = await db.stack()
  engine.register<{ round: number }, unknown>('test::loop', async (ctx, input) => {
    await ctx.step(`round-${input.round}`, async () => input.round)
    if (input.round < 3) return ctx.continueAsNew({ round: input.round + 1 })
    return { rounds: input.round }
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::loop'), { round: 1 }, { key: 'loop' })
  const done = await engine.waitFor(operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  t.same(done.output, { rounds: 3 })
  t.equal(done.generation, 2)
  t.same((await engine.getSteps(operation.id)).map(s => s.name), ['round-3'])
})
