// A run keeps its operation as long as its process lives: the dispatcher
// renews the lease (every half lease), so a step that runs for several
// leases is never taken over by another engine polling for lapsed leases.
import t from 'tap'
import { orchestration } from '../../src/engine/index.ts'
import { effectCounts, recordEffect, until } from './fixtures/setup.ts'
import { engineDatabase } from './helpers.ts'

t.test('a step that outlasts several leases keeps its operation: no takeover while its process renews', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const runner = await db.stack({ concurrency: 1, heartbeatSeconds: 1, pollingIntervalSeconds: 1 })
  const rival = await db.stack({ concurrency: 1, heartbeatSeconds: 1, pollingIntervalSeconds: 1 })
  let slowRuns = 0
  const register = (engine: typeof runner.engine, pool: typeof runner.pool, slow: boolean): void => {
    engine.register('test::long-step', async ctx => ctx.step('long', async () => {
      await recordEffect(pool, ctx.operationId, 'long')
      if (slow) {
        slowRuns++
        // Four leases long, then done: the rival polls for lapsed leases every second meanwhile.
        await new Promise(resolve => setTimeout(resolve, 4000))
      }
    }))
  }
  register(runner.engine, runner.pool, true)
  await runner.engine.work()
  const { operation } = await api.engine.start(orchestration('test::long-step'), {}, { key: 'long' })
  // Only once the slow run holds it does the rival start looking.
  await until(() => effectCounts(api.pool, operation.id), c => c.long === 1, 'the slow step running')
  register(rival.engine, rival.pool, false)
  await rival.engine.work()
  const done = await api.engine.waitFor(operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  t.equal(done.attempts, 1, 'claimed once: never taken over')
  t.same(await effectCounts(api.pool, operation.id), { long: 1 }, 'the step ran once')
  t.equal(slowRuns, 1)
})
