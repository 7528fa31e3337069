import t from 'tap'
import { CancelledError, orchestration } from '../../src/engine/index.ts'
import { engineDatabase } from './helpers.ts'
import { effectCounts, recordEffect, until } from './fixtures/setup.ts'

t.test('cancelling a running step aborts its signal; compensation runs; ends cancelled', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  engine.register('test::cancellable', async ctx => {
    await ctx.step('provision', async () => { await recordEffect(pool, ctx.operationId, 'provision') })
    try {
      await ctx.step('wait-ready', ({ signal }) => new Promise((_resolve, reject) => {
        recordEffect(pool, ctx.operationId, 'wait-ready').catch(reject)
        signal.addEventListener('abort', () => reject(signal.reason))
      }))
      await ctx.step('never', async () => { await recordEffect(pool, ctx.operationId, 'never') })
    } catch (err) {
      t.ok(err instanceof CancelledError, 'ctx.step throws CancelledError')
      t.ok(ctx.signal.aborted, 'ctx.signal is aborted')
      await ctx.step('deprovision', async ({ signal }) => {
        t.notOk(signal.aborted, 'compensation steps get a live signal')
        await recordEffect(pool, ctx.operationId, 'deprovision')
      })
      throw err
    }
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::cancellable'), {}, { key: 'a' })
  await until(() => effectCounts(pool, operation.id), c => c['wait-ready'] === 1, 'step running')
  t.equal(await engine.cancel(operation.id, { reason: 'user asked' }), true)
  const done = await engine.waitFor(operation.id, { timeoutMs: 20_000 })
  t.equal(done.status, 'cancelled')
  t.equal(done.cancel_reason, 'user asked')
  t.ok(done.cancel_requested_at)
  t.same(await effectCounts(pool, operation.id), { provision: 1, 'wait-ready': 1, deprovision: 1 })
  t.same((await engine.getSteps(operation.id)).map(s => [s.name, s.status]),
    [['provision', 'succeeded'], ['wait-ready', 'cancelled'], ['deprovision', 'succeeded']])
  t.equal(await engine.cancel(operation.id), false, 'a finished operation cannot be cancelled')
})

t.test('cancelling a sleeping operation wakes it at once to run its cleanup', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  engine.register('test::sleeper', async ctx => {
    await ctx.step('create', async () => { await recordEffect(pool, ctx.operationId, 'create') })
    try {
      await ctx.sleep(60 * 60 * 1000)
      await ctx.step('after-sleep', async () => { await recordEffect(pool, ctx.operationId, 'after-sleep') })
    } catch (err) {
      await ctx.step('cleanup', async () => { await recordEffect(pool, ctx.operationId, 'cleanup') })
      throw err
    }
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::sleeper'), {}, { key: 'b' })
  await until(() => engine.getSteps(operation.id), s => s[1]?.status === 'sleeping', 'sleeping')
  t.equal(await engine.cancel(operation.id), true)
  // An hour-long timer: finishing within the wait below proves the wake-up.
  const done = await engine.waitFor(operation.id, { timeoutMs: 20_000 })
  t.equal(done.status, 'cancelled')
  t.same(await effectCounts(pool, operation.id), { create: 1, cleanup: 1 })
  t.same((await engine.getSteps(operation.id)).map(s => [s.name, s.status]),
    [['create', 'succeeded'], ['$sleep', 'cancelled'], ['cleanup', 'succeeded']])
})

t.test('cancelling an operation that never started ends it and frees its key', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  let release: () => void = () => {}
  const gate = new Promise<void>(resolve => { release = resolve })
  engine.register('test::blocker', async ctx => {
    await ctx.step('hold', async () => { await recordEffect(pool, ctx.operationId, 'hold'); await gate })
  })
  engine.register('test::follower', async ctx => ctx.step('go', async () => 'went'))
  await engine.work()
  const first = await engine.start(orchestration('test::blocker'), {}, { key: 'shared' })
  await until(() => effectCounts(pool, first.operation.id), c => c.hold === 1, 'first holds the key')
  const second = await engine.start(orchestration('test::follower'), {}, { key: 'shared' })
  const third = await engine.start(orchestration('test::follower'), {}, { key: 'shared' })
  t.equal(await engine.cancel(second.operation.id), true)
  const cancelled = await engine.waitFor(second.operation.id)
  t.match(cancelled, { status: 'cancelled', started_at: null, error: { code: 'cancelled' } })
  release()
  t.equal((await engine.waitFor(first.operation.id)).status, 'succeeded')
  t.equal((await engine.waitFor(third.operation.id)).output, 'went', 'the next one on the key still runs')
})

t.test('cancel cuts an in-process back-off short; metrics events are emitted', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  const events: Array<[string, unknown]> = []
  for (const e of ['operation:started', 'operation:finished', 'step:finished']) engine.on(e, p => events.push([e, p]))
  engine.register('test::backing-off', async ctx => {
    await ctx.step('ok', async () => 1)
    await ctx.step('flaky', async () => {
      await recordEffect(pool, ctx.operationId, 'flaky')
      throw new Error('down')
    }, { initialDelayMs: 4900, maxAttempts: 5 }) // just under the in-process limit
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::backing-off'), {}, { key: 'bo' })
  await until(() => effectCounts(pool, operation.id), c => c.flaky === 1, 'first attempt failed')
  await engine.cancel(operation.id)
  const done = await engine.waitFor(operation.id, { timeoutMs: 20_000 })
  t.equal(done.status, 'cancelled')
  // waitFor hears the end from the database (NOTIFY on the listener's
  // connection); the run emits its event once its own write's reply comes
  // back on another connection, which can be later.
  await until(async () => events.some(([e]) => e === 'operation:finished'), Boolean, 'the run emitted its end')
  t.same(await effectCounts(pool, operation.id), { flaky: 1 }, 'no second attempt after the cancel')
  t.match((await engine.getSteps(operation.id))[1], { name: 'flaky', status: 'cancelled', attempts: 1 })
  t.match(events, [
    ['operation:started', { name: 'test::backing-off' }],
    ['step:finished', { name: 'test::backing-off', step: 'ok', status: 'succeeded', durationMs: Number }],
    ['operation:finished', { name: 'test::backing-off', status: 'cancelled', durationMs: Number }]
  ])
})

t.test('a cancel that lands after a run last looked, just before it sleeps, wakes it now rather than at its timer', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  // This engine listens on another database: it hears no NOTIFY, so it learns
  // of the cancel only from the database, when the run sets its timer.
  const deaf = new URL(db.url)
  deaf.pathname = '/postgres'
  const { engine, pool } = await db.stack({ concurrency: 1, listenConnectionString: deaf.toString() })
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  engine.register('test::sleeps-after-step', async ctx => {
    await ctx.step('work', async () => { await recordEffect(pool, ctx.operationId, 'work'); await gate })
    await ctx.sleep(120_000)
    return 'woke'
  })
  await engine.work()
  const { operation } = await api.engine.start(orchestration('test::sleeps-after-step'), {}, { key: 'late-cancel' })
  await until(() => effectCounts(pool, operation.id), c => c.work === 1, 'step running')
  t.equal(await api.engine.cancel(operation.id), true)
  release()
  const done = await api.engine.waitFor(operation.id, { timeoutMs: 20_000 })
  t.equal(done.status, 'cancelled', 'ended by the cancel, long before the 120 s timer')
  t.same((await api.engine.getSteps(operation.id)).map(s => [s.name, s.status]), [['work', 'succeeded'], ['$sleep', 'cancelled']])
})
