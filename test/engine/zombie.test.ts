import { orchestration } from '../../src/engine/index.ts'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { engineDatabase } from './helpers.ts'
import { effectCounts, recordEffect, until } from './fixtures/setup.ts'

t.test('a run whose lease was taken writes no checkpoint and goes no further (its running step\'s side effect is not undone)', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  engine.register('test::zombie', async ctx => {
    await ctx.step('one', async () => { await recordEffect(pool, ctx.operationId, 'one') })
    await ctx.step('two', async () => { await recordEffect(pool, ctx.operationId, 'two'); await gate })
    await ctx.step('three', async () => { await recordEffect(pool, ctx.operationId, 'three') })
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::zombie'), {}, { key: 'z' })
  await until(() => effectCounts(pool, operation.id), c => c.two === 1, 'step two running')
  // What a new owner's claim does: a fresh lease for another job attempt.
  const thief = randomUUID()
  await pool.query('UPDATE toygres.operations SET lease = $2, lease_job = $3 WHERE id = $1', [operation.id, thief, 'another-job'])
  release()
  // stop() returns once the engine's runs ended (within its grace period): the zombie's run is over.
  await engine.stop()
  const op = await engine.getOperation(operation.id)
  t.equal(op?.status, 'running', 'left to the new owner')
  const { rows } = await pool.query('SELECT lease FROM toygres.operations WHERE id = $1', [operation.id])
  t.equal(rows[0].lease, thief)
  t.same((await engine.getSteps(operation.id)).map(s => s.name), ['one'], 'step two was not checkpointed by the zombie')
  t.same(await effectCounts(pool, operation.id), { one: 1, two: 1 }, 'and it did not go on to step three')
})

t.test('stop() hands a long operation back at a step boundary; another engine resumes it', async t => {
  const db = await engineDatabase(t)
  const first = await db.stack({ graceMs: 100 })
  const STEPS = 200
  const register = (engine: typeof first.engine) => engine.register('test::long', async ctx => {
    for (let i = 0; i < STEPS; i++) {
      await ctx.step(`s${i}`, async () => {
        await first.pool.query('SELECT pg_sleep(0.02)')
        await recordEffect(first.pool, ctx.operationId, `s${i}`)
      })
    }
    return 'done'
  })
  register(first.engine)
  await first.engine.work()
  const { operation } = await first.engine.start(orchestration('test::long'), {}, { key: 'l' })
  await until(() => effectCounts(first.pool, operation.id), c => c.s0 === 1, 'first step ran')
  await first.engine.stop()
  const kept = (await first.engine.getSteps(operation.id)).length
  t.ok(kept > 0 && kept < STEPS, `released part-way (${kept} steps kept)`)
  const { rows } = await first.pool.query('SELECT lease, status FROM toygres.operations WHERE id = $1', [operation.id])
  t.same(rows[0], { lease: null, status: 'running' }, 'released, not finished')

  const second = await db.stack()
  register(second.engine)
  await second.engine.work()
  const done = await second.engine.waitFor(operation.id, { timeoutMs: 60_000 })
  t.equal(done.status, 'succeeded')
  const counts = await effectCounts(second.pool, operation.id)
  t.equal(Object.keys(counts).length, STEPS)
  t.ok(Object.values(counts).every(n => n === 1), 'every step ran exactly once')
})
