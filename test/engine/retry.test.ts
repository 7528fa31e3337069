import t from 'tap'
import { NonRetryableError, StepFailedError, orchestration } from '../../src/engine/index.ts'
import { engineDatabase } from './helpers.ts'
import { effectCounts, recordEffect, until } from './fixtures/setup.ts'

t.test('retries with back-off, then succeeds; attempts are recorded', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  engine.register('test::flaky', async ctx => {
    return ctx.step('flaky', async () => {
      await recordEffect(pool, ctx.operationId, 'flaky')
      const { n } = await effectCounts(pool, ctx.operationId).then(c => ({ n: c.flaky ?? 0 }))
      if (n < 3) throw new Error(`transient ${n}`)
      return 'ok'
    }, { maxAttempts: 4, initialDelayMs: 10, backoffFactor: 2 })
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::flaky'), {}, { key: 'a' })
  const done = await engine.waitFor(operation.id)
  t.equal(done.status, 'succeeded')
  t.equal(done.output, 'ok')
  const [step] = await engine.getSteps(operation.id)
  t.match(step, { name: 'flaky', status: 'succeeded', attempts: 3 })
  t.same(await effectCounts(pool, operation.id), { flaky: 3 })
})

t.test('non-retryable errors (duck-typed) stop at once; compensation runs; error names the step', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack()
  engine.register('test::doomed', async ctx => {
    await ctx.step('create', async () => { await recordEffect(pool, ctx.operationId, 'create') })
    try {
      await ctx.step('configure', async () => {
        await recordEffect(pool, ctx.operationId, 'configure')
        throw Object.assign(new Error('bad spec'), { retryable: false, code: 'invalid-spec' })
      })
    } catch (err) {
      t.ok(err instanceof StepFailedError)
      await ctx.step('undo-create', async () => { await recordEffect(pool, ctx.operationId, 'undo-create') })
      throw err
    }
  })
  engine.register('test::nonretryable-class', async ctx => {
    await ctx.step('x', async () => { throw new NonRetryableError('no') })
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::doomed'), {}, { key: 'b' })
  const done = await engine.waitFor(operation.id)
  t.equal(done.status, 'failed')
  t.match(done.error, { step: 'configure', code: 'invalid-spec', message: /bad spec/ })
  t.same(await effectCounts(pool, operation.id), { create: 1, configure: 1, 'undo-create': 1 })
  t.same((await engine.getSteps(operation.id)).map(s => [s.name, s.status, s.attempts]),
    [['create', 'succeeded', 1], ['configure', 'failed', 1], ['undo-create', 'succeeded', 1]])
  const other = await engine.start(orchestration('test::nonretryable-class'), {}, { key: 'c' })
  const done2 = await engine.waitFor(other.operation.id)
  t.match(done2, { status: 'failed', error: { step: 'x', code: 'non-retryable' } })
})

t.test('a per-attempt timeout aborts the step signal and counts as a failed attempt', async t => {
  const db = await engineDatabase(t)
  const { engine } = await db.stack()
  let aborted = 0
  engine.register('test::slow', async ctx => {
    await ctx.step('hang', ({ signal }) => new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => { aborted++; reject(signal.reason) })
    }), { timeoutMs: 50, maxAttempts: 2, initialDelayMs: 1 })
  })
  await engine.work()
  const { operation } = await engine.start(orchestration('test::slow'), {}, { key: 'd' })
  const done = await engine.waitFor(operation.id)
  t.match(done, { status: 'failed', error: { step: 'hang', code: 'step-timeout' } })
  t.equal(aborted, 2, 'each attempt saw its signal abort')
  t.match((await engine.getSteps(operation.id))[0], { status: 'failed', attempts: 2 })
})

t.test('a long back-off is a durable timer: the worker is released meanwhile', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 1 })
  engine.register('test::patient', async ctx => {
    return ctx.step('later', async () => {
      await recordEffect(pool, ctx.operationId, 'later')
      const c = await effectCounts(pool, ctx.operationId)
      if ((c.later ?? 0) < 2) throw new Error('not yet')
      return 'done'
    }, { initialDelayMs: 5500, maxAttempts: 2 })
  })
  engine.register('test::quick', async ctx => ctx.step('q', async () => 'quick'))
  await engine.work()
  const { operation } = await engine.start(orchestration('test::patient'), {}, { key: 'e' })
  const retrying = await until(() => engine.getSteps(operation.id), s => s[0]?.status === 'retrying', 'retrying checkpoint')
  t.match(retrying[0], { attempts: 1, error: { message: 'not yet' } })
  const op = await engine.getOperation(operation.id)
  t.equal(op?.status, 'running')
  // With one slot per queue, another orchestration still runs: nothing is held.
  const quick = await engine.start(orchestration('test::quick'), {}, { key: 'f' })
  t.equal((await engine.waitFor(quick.operation.id)).status, 'succeeded')
  const same = await engine.start(orchestration('test::patient'), {}, { key: 'g' })
  await until(() => engine.getSteps(same.operation.id), s => s[0]?.status === 'retrying', 'a second operation on the same queue gets the released slot')
  const done = await engine.waitFor(operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  t.match((await engine.getSteps(operation.id))[0], { status: 'succeeded', attempts: 2 })
  await engine.waitFor(same.operation.id, { timeoutMs: 30_000 })
})
