// Queued starts: a start that no slot of this process takes (none free, or
// an orchestration it does not run). Without an idempotency key it is one
// statement: the operation's row, pending and due now, with no pg-boss job;
// its commit wakes the fetchers, and a fetch claims it from its row as it
// claims a due timer. What must hold: one row and nothing else, nothing
// left by a rollback, and a fetcher woken at once, not at its next poll.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import t from 'tap'
import { inTransaction } from '../../src/db/queryable.ts'
import { Engine, orchestration } from '../../src/engine/index.ts'
import { logger } from './fixtures/setup.ts'
import { claimRuns } from '../../src/engine/claim.ts'
import { ensureQueue, queueName } from '../../src/engine/queues.ts'
import { engineDatabase, startJobs } from './helpers.ts'
import { StartWriter, type QueuedStart } from '../../src/engine/start-writer.ts'
import { insertDueOperations } from '../../src/engine/sql/operations.ts'

const ONE_STEP = orchestration<Record<string, never>, number>('test::queued-start')

/** The start jobs pg-boss holds for `operationId`, and whether its row is due (wake_at passed). */
async function queuedAs (pool: pg.Pool | pg.PoolClient, operationId: string): Promise<{ jobs: number, due: boolean }> {
  const { rows } = await pool.query<{ due: boolean }>('SELECT wake_at <= now() AS due FROM toygres.operations WHERE id = $1', [operationId])
  return { jobs: await startJobs(pool, operationId), due: rows[0]!.due }
}

t.test('a start no slot here takes is its row, due now, with no start job; another engine\'s fetcher is woken at once to run it', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  // Polls once a minute: only the start's NOTIFY can bring its fetch within waitFor's 30 s.
  const worker = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  worker.engine.register(ONE_STEP.name, async ctx => ctx.step('only', async () => 5))
  await worker.engine.work()
  // One run to the end (an eager start on the worker): its first fetch, which work() began, is over.
  const warm = (await worker.engine.start(ONE_STEP, {}, { key: `warm-${randomUUID()}` })).operation
  await worker.engine.waitFor(ONE_STEP, warm.id)

  // Read inside the start's transaction: once it commits, the worker may claim it before any read here.
  const { operation, created } = await inTransaction(api.pool, async client => {
    const started = await api.engine.start(ONE_STEP, {}, { key: 'k1', db: client })
    t.same(await queuedAs(client, started.operation.id), { jobs: 0, due: true }, 'due on its row, no start job')
    return started
  })
  t.ok(created)
  t.equal(operation.status, 'pending', 'not claimed: no slot in this process')
  const done = await api.engine.waitFor(ONE_STEP, operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  t.equal(done.output, 5, 'the worker ran it')
  t.equal(done.attempts, 1, 'claimed once')
})

t.test('a queued start in the caller\'s transaction is nothing until it commits, and nothing after a rollback', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const worker = await db.stack({ concurrency: 1 })
  worker.engine.register(ONE_STEP.name, async ctx => ctx.step('only', async () => 6))
  await worker.engine.work()

  let kept = ''
  await inTransaction(api.pool, async client => {
    kept = (await api.engine.start(ONE_STEP, {}, { key: 'k2', db: client })).operation.id
    const seen = await worker.pool.query('SELECT count(*)::int AS n FROM toygres.operations WHERE id = $1', [kept])
    t.equal(seen.rows[0].n, 0, 'invisible to other transactions before the commit')
  })
  t.equal((await api.engine.waitFor(ONE_STEP, kept, { timeoutMs: 30_000 })).output, 6, 'run once committed')

  let dropped = ''
  await t.rejects(inTransaction(api.pool, async client => {
    dropped = (await api.engine.start(ONE_STEP, {}, { key: 'k3', db: client })).operation.id
    throw new Error('the caller changed its mind')
  }), /changed its mind/)
  t.equal(await api.engine.getOperation(dropped), null, 'a rollback leaves no operation')
  const keys = await api.pool.query("SELECT count(*)::int AS n FROM toygres.operation_keys WHERE key = 'k3'")
  t.equal(keys.rows[0].n, 0, 'and no key')
})

t.test('a fetch that due rows fill is one statement on the pool, with no transaction; one that asks for jobs and fails gives its due rows back', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  await ensureQueue(api.boss, queueName(ONE_STEP.name))
  const [a, b] = [await api.engine.start(ONE_STEP, {}, { key: 'a' }), await api.engine.start(ONE_STEP, {}, { key: 'b' })].map(s => s.operation.id)
  // The pool, counting what claimRuns asks of it: a transaction needs a client of its own (connect()).
  const asked = { query: 0, connect: 0 }
  const pool = new Proxy(api.pool, {
    get (target, prop) {
      if (prop === 'query' || prop === 'connect') asked[prop]++
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
  const settings = { name: ONE_STEP.name, queue: queueName(ONE_STEP.name), leaseSeconds: 10, maxTakeovers: 3 }

  const one = await claimRuns(pool, api.boss, settings, 1)
  t.same(one.runs.map(r => r.operation.id), [a], 'the older due row, claimed')
  t.match(one, { fetched: 1, askedJobs: false })
  t.same(asked, { query: 1, connect: 0 }, 'one statement, in autocommit')

  // Two free slots, one due row: pg-boss is asked for the other, on a queue that does not exist, and fails.
  await t.rejects(claimRuns(pool, api.boss, { ...settings, queue: 'test.no-such-queue' }, 2))
  const { rows } = await api.pool.query('SELECT lease, wake_at <= now() AS due, attempts FROM toygres.operations WHERE id = $1', [b])
  t.same(rows, [{ lease: null, due: true, attempts: 1 }], 'b, claimed before the jobs were asked for, is handed back, due now')
  const again = await claimRuns(api.pool, api.boss, settings, 2)
  t.same(again.runs.map(r => [r.operation.id, r.operation.attempts]), [[b, 2]], 'and the next fetch claims it')
})

/** `pool`, counting the transactions asked of it: each needs a client of its own (connect()). */
function countingConnects (pool: pg.Pool): { pool: pg.Pool, connects: () => number } {
  let connects = 0
  const counted = new Proxy(pool, {
    get (target, prop) {
      if (prop === 'connect') connects++
      const v = Reflect.get(target, prop, target)
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
  return { pool: counted, connects: () => connects }
}

t.test('fetches of due rows ask pg-boss for start jobs only after a notice that one was sent; a notice brings a keyed start at once', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const base = await db.stack({ concurrency: 0 })
  const { pool, connects } = countingConnects(base.pool)
  // Polls once a minute: within this test only notices say that a start job may be waiting.
  const worker = new Engine({ pool, boss: base.boss, logger, concurrency: 2, heartbeatSeconds: 10, pollingIntervalSeconds: 60 })
  t.teardown(() => worker.stop())
  const SLEEPER = orchestration<Record<string, never>, number>('test::queued-sleeper')
  worker.register(SLEEPER.name, async ctx => {
    for (let i = 0; i < 10; i++) await ctx.sleep(5)
    return ctx.step('done', async () => 10)
  })
  await worker.work()
  // The first fetch asked pg-boss (nothing was known yet) and found its queue empty; a run to the end after it.
  const warm = (await worker.start(SLEEPER, {}, { key: 'warm' })).operation
  t.equal((await worker.waitFor(SLEEPER, warm.id, { timeoutMs: 30_000 })).output, 10)

  const before = connects()
  const sleeper = (await api.engine.start(SLEEPER, {}, { key: 's1' })).operation
  t.equal((await worker.waitFor(SLEEPER, sleeper.id, { timeoutMs: 30_000 })).output, 10, 'ten timers and a step, each due on its row')
  t.equal(connects() - before, 0, 'no fetch opened a transaction for pg-boss: no start job was announced')

  // A start with an idempotency key, queued by another engine: its job is announced (NOTIFY 'j:'), and the
  // worker asks pg-boss at once, not at its next poll a minute away.
  const keyed = (await api.engine.start(SLEEPER, {}, { key: 's2', idempotencyKey: 's2' })).operation
  t.equal(keyed.status, 'pending')
  t.equal(await startJobs(api.pool, keyed.id), 1, 'delivered by a start job')
  t.equal((await worker.waitFor(SLEEPER, keyed.id, { timeoutMs: 30_000 })).output, 10, 'run well before the poll')
  t.ok(connects() - before > 0, 'that fetch asked pg-boss, in a transaction')
})

t.test('queued starts made together share statements, keep their order on a key, and a row PostgreSQL refuses fails only its own start', async t => {
  const db = await engineDatabase(t)
  const { pool } = await db.stack({ concurrency: 0 })
  const writer = new StartWriter(pool)
  const existing = { id: randomUUID(), name: 'test::queued-start', key: 'taken', input: {}, trace: false }
  // A row whose shared statement committed but whose reply was lost: tried alone, its id is taken by itself.
  await insertDueOperations(pool, [existing])
  const starts: QueuedStart[] = Array.from({ length: 40 }, (_, i) => ({ id: randomUUID() as string, name: 'test::queued-start', key: 'one-key', input: { i }, trace: false }))
  // PostgreSQL's jsonb refuses \u0000: the shared statement it is in fails.
  const poisoned = { ...starts[9]!, input: { bad: 'nul \u0000 here' } }
  starts[9] = poisoned
  starts[17] = existing
  const results = await Promise.allSettled(starts.map(s => writer.insert(s)))
  t.ok(writer.stats.statements < writer.stats.starts, `${writer.stats.starts} starts in ${writer.stats.statements} statements`)

  t.equal(results[9]!.status, 'rejected', 'the refused row fails its own start')
  const fulfilled = results.flatMap((r, i) => r.status === 'fulfilled' ? [{ i, op: r.value }] : [])
  t.equal(fulfilled.length, 39, 'every other start has its row')
  t.ok(fulfilled.every(({ i, op }) => op.id === starts[i]!.id && op.status === 'pending'), 'each caller gets its own operation, pending')
  const { rows } = await pool.query<{ id: string, due: boolean }>(
    `SELECT id, wake_at <= now() AS due FROM toygres.operations WHERE key = 'one-key' ORDER BY created_at, id`)
  t.same(rows.map(r => r.id), starts.filter(s => s !== poisoned && s !== existing).map(s => s.id), 'on one key in the order given, nothing of the refused one')
  t.ok(rows.every(r => r.due), 'each due now, for a fetch to claim')
})

t.test('an engine\'s queued starts on one key run in the order they were made, however many are made at once', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const worker = await db.stack({ concurrency: 4 })
  const order: number[] = []
  const NUMBERED = orchestration<{ i: number }, number>('test::queued-numbered')
  worker.engine.register(NUMBERED.name, async (ctx, input: { i: number }) => ctx.step('record', async () => { order.push(input.i); return input.i }))
  const started = await Promise.all(Array.from({ length: 30 }, (_, i) => api.engine.start(NUMBERED, { i }, { key: 'in-order' })))
  t.ok(started.every(s => s.created && s.operation.status === 'pending'), 'queued: no slot in the starting process')
  await worker.engine.work()
  for (const { operation } of started) t.equal((await worker.engine.waitFor(NUMBERED, operation.id, { timeoutMs: 30_000 })).status, 'succeeded')
  t.same(order, Array.from({ length: 30 }, (_, i) => i), 'one at a time, in start order')
})
