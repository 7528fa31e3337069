import { orchestration } from '../../src/engine/index.ts'
import t from 'tap'
import { engineDatabase } from './helpers.ts'
import { effectCounts, recordEffect } from './fixtures/setup.ts'

t.test('a replay that asks for a different step fails the operation, even if the orchestration catches', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  let runs = 0
  engine.register('test::fickle', async ctx => {
    runs++
    const name = runs === 1 ? 'first-name' : 'second-name'
    await ctx.step(name, async () => { await recordEffect(pool, ctx.operationId, name) })
    await ctx.sleep(10)
    try {
      await ctx.step('tail', async () => { await recordEffect(pool, ctx.operationId, 'tail') })
    } catch {
      return 'swallowed'
    }
    return 'finished'
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::fickle'), {}, { key: 'a' })
  const done = await engine.waitFor(operation.id)
  t.equal(done.status, 'failed')
  t.match(done.error, { code: 'non-deterministic', message: /position 0 recorded step "first-name".*"second-name"/ })
  t.same(await effectCounts(pool, operation.id), { 'first-name': 1 }, 'nothing ran with mixed history')
})
