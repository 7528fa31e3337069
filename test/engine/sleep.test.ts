import t from 'tap'
import { orchestration } from '../../src/engine/index.ts'
import { engineDatabase } from './helpers.ts'
import { effectCounts, recordEffect, until } from './fixtures/setup.ts'
import type { Engine } from '../../src/engine/index.ts'
import type pg from 'pg'

function register (engine: Engine, pool: pg.Pool): void {
  engine.register('test::nap', async ctx => {
    await ctx.step('before', async () => { await recordEffect(pool, ctx.operationId, 'before') })
    await ctx.sleep(1500)
    await ctx.step('after', async () => { await recordEffect(pool, ctx.operationId, 'after') })
    return 'rested'
  })
}

t.test('a durable sleep survives stopping every worker', async t => {
  const db = await engineDatabase(t)
  const first = await db.stack()
  register(first.engine, first.pool)
  await first.engine.work()
  const { operation } = await first.engine.start(orchestration('test::nap'), {}, { key: 'a' })
  const steps = await until(() => first.engine.getSteps(operation.id), s => s[1]?.status === 'sleeping', 'sleeping')
  const wakeAt = (steps[1]?.output as { wakeAt: number }).wakeAt
  await first.stop()

  const second = await db.stack()
  register(second.engine, second.pool)
  await second.engine.work()
  const done = await second.engine.waitFor(operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  t.equal(done.output, 'rested')
  t.same(await effectCounts(second.pool, operation.id), { before: 1, after: 1 })
  const after = (await second.engine.getSteps(operation.id))[2]
  t.ok(after && after.started_at.getTime() >= wakeAt, 'resumed only after the wake-up time')
})
