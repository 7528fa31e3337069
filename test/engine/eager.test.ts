// Eager starts (engine.start in a process that runs the orchestration, with
// a slot free): the start claims its operation in the caller's transaction
// and the run begins here once that commits, with no pg-boss job. What must
// hold: nothing runs before the commit, nothing is left behind by a
// rollback, a busy key still queues, and a run that cannot begin here
// (the engine stopped) goes to another engine at once.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { inTransaction } from '../../src/db/queryable.ts'
import { orchestration, type Engine } from '../../src/engine/index.ts'
import { until } from './fixtures/setup.ts'
import { engineDatabase, startJobs } from './helpers.ts'

const ONE_STEP = orchestration<Record<string, never>, number>('test::eager')

/**
 * A start inside the caller's transaction takes a slot only if one is free
 * at once: the fetch work() begins asks for every free slot until it ends.
 * A start without a transaction waits for that fetch, so one run to the end
 * leaves no fetch in flight (the tests' engines poll once a minute).
 */
async function settle (engine: Engine): Promise<void> {
  const { operation } = await engine.start(ONE_STEP, {}, { key: `warm-${randomUUID()}` })
  await engine.waitFor(operation.id)
}

t.test('a start with a slot free runs here at once, with no start job', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 1 })
  engine.register(ONE_STEP.name, async ctx => ctx.step('only', async () => 7))
  await engine.work()
  const { operation, created } = await engine.start(ONE_STEP, {}, { key: 'k1' })
  t.ok(created)
  t.equal(operation.status, 'running', 'claimed by the start itself')
  t.equal(operation.attempts, 1)
  t.equal(await startJobs(pool, operation.id), 0, 'no pg-boss job was sent')
  const done = await engine.waitFor(ONE_STEP, operation.id)
  t.equal(done.status, 'succeeded')
  t.equal(done.output, 7)
  t.equal(done.attempts, 1, 'claimed once')
})

t.test('waitFor of a run that finishes here resolves with the operation as its end committed it, without reading it', async t => {
  const db = await engineDatabase(t)
  // The backstop read of a waiter whose run is here comes once per polling interval: none in this test.
  const { engine } = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  engine.register(ONE_STEP.name, async ctx => ctx.step('only', async () => 7))
  await engine.work()
  await settle(engine)
  const reads = t.capture(engine, 'getOperation', engine.getOperation)
  const { operation } = await engine.start(ONE_STEP, {}, { key: 'k-wait' })
  t.equal(operation.status, 'running', 'its run is here')
  const [done, other] = await Promise.all([engine.waitFor(ONE_STEP, operation.id), engine.waitFor(ONE_STEP, operation.id)])
  t.equal(reads().length, 0, 'waitFor read nothing')
  t.not(done, other, 'each waiter has its own copy, as each read gives its own')
  t.same(done, other)
  reads.restore()
  t.same(done, await engine.getOperation(operation.id), 'the same operation a read returns')
  t.equal(done.output, 7)
})

// A run here that lost its lease (a zombie: its process was cut off or paused) goes on until its next write, and the
// finish NOTIFY of the engine that took the operation over is left to it. Its waiters still read once per polling
// interval, so they learn of the finish then, not at their deadline (tap's timeout fails the test before that).
t.test('waitFor here learns that another engine finished the operation while a zombie run here is still in a step', { timeout: 30_000 }, async t => {
  const db = await engineDatabase(t)
  // A long lease, never renewed during the test; a one-second polling interval.
  const a = await db.stack({ concurrency: 1, heartbeatSeconds: 120, pollingIntervalSeconds: 1 })
  let open: () => void = () => {}
  const gate = new Promise<void>(resolve => { open = resolve })
  t.teardown(() => open())
  a.engine.register(ONE_STEP.name, async ctx => ctx.step('held', async () => { await gate; return 1 }))
  await a.engine.work()
  const { operation } = await a.engine.start(ONE_STEP, {}, { key: 'zombie' })
  t.equal(operation.status, 'running', 'runs in engine a')
  // The step's running row is written (at 250 ms) while a still holds the lease: a's next write is the step's end.
  await until(async () => (await a.pool.query("SELECT 1 FROM toygres.operation_steps WHERE operation_id = $1 AND status = 'running'", [operation.id])).rowCount, n => n === 1, 'the running row')
  const waited = a.engine.waitFor(ONE_STEP, operation.id, { timeoutMs: 120_000 })
  await a.pool.query("UPDATE toygres.operations SET lease_until = now() - interval '1 s' WHERE id = $1", [operation.id])
  const b = await db.stack({ concurrency: 1 })
  b.engine.register(ONE_STEP.name, async ctx => ctx.step('held', async () => 2))
  await b.engine.work()
  t.equal((await b.engine.waitFor(ONE_STEP, operation.id)).output, 2, 'engine b took it over and finished it')
  const seen = await waited
  t.equal(seen.status, 'succeeded', 'a\'s waiter has it, its zombie run still in the step')
  t.equal(seen.output, 2)
})

t.test('an eager run begins only after the caller commits, and a rollback leaves nothing and frees the slot', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  // The step looks for its own operation from another connection: before
  // the start's transaction commits, the row is not there to see.
  engine.register(ONE_STEP.name, async ctx => ctx.step('sees-itself', async () => {
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM toygres.operations WHERE id = $1', [ctx.operationId])
    return rows[0].n
  }))
  await engine.work()
  await settle(engine)

  let rolledBack = ''
  await t.rejects(inTransaction(pool, async client => {
    const { operation } = await engine.start(ONE_STEP, {}, { key: 'k2', db: client })
    rolledBack = operation.id
    t.equal(operation.status, 'running', 'claimed in the caller\'s transaction')
    throw new Error('the caller changes its mind')
  }), /changes its mind/)
  t.equal(await engine.getOperation(rolledBack), null, 'the rolled-back start left no operation')

  // With one slot, this start runs eagerly only if the rollback gave the slot back.
  const id = await inTransaction(pool, async client => {
    const { operation } = await engine.start(ONE_STEP, {}, { key: 'k2', db: client })
    t.equal(operation.status, 'running', 'the slot came back: claimed again')
    // Still inside the transaction: a run begun now would not see its row.
    await client.query('SELECT pg_sleep(0.2)')
    return operation.id
  })
  const done = await engine.waitFor(ONE_STEP, id)
  t.equal(done.status, 'succeeded')
  t.equal(done.output, 1, 'the step saw its committed operation: it ran after the commit')
})

for (const idempotent of [false, true]) {
  // Without an idempotency key the start is one statement, and a refused one waits due now on its row; with one, it
  // takes insertOperation + claimOperations, and a refused one gets a start job.
  t.test(`a start whose key is busy is queued, and runs after the key's holder (${idempotent ? 'with an idempotency key: a start job' : 'one statement: due on its row, no start job'})`, async t => {
    const db = await engineDatabase(t)
    const { engine, pool } = await db.stack({ concurrency: 2 })
    let open: () => void = () => {}
    const gate = new Promise<void>(resolve => { open = resolve })
    let runs = 0
    const seen: string[] = []
    // The first run holds the key until the gate opens (it may begin before start() returns).
    engine.register(ONE_STEP.name, async ctx => ctx.step('only', async () => {
      seen.push(`${ctx.operationId}:start`)
      if (runs++ === 0) await gate
      seen.push(`${ctx.operationId}:end`)
      return 1
    }))
    await engine.work()
    const first = (await engine.start(ONE_STEP, {}, { key: 'shared' })).operation.id
    const second = (await engine.start(ONE_STEP, {}, { key: 'shared', ...(idempotent && { idempotencyKey: 'second' }) })).operation
    t.equal(second.status, 'pending', 'not claimed: the key is held')
    t.equal(await startJobs(pool, second.id), idempotent ? 1 : 0, idempotent ? 'queued with a start job' : 'no start job')
    t.equal((await engine.getOperation(second.id))?.status, 'pending', 'still waiting while the holder runs')
    open()
    t.equal((await engine.waitFor(ONE_STEP, second.id)).status, 'succeeded')
    // Timestamps cannot say this: a claim's started_at is its transaction's start, which may precede the finish it waited for.
    t.same(seen, [`${first}:start`, `${first}:end`, `${second.id}:start`, `${second.id}:end`], 'the second ran after the first')
  })
}

t.test('a start on a free key behind a pending operation waits its turn', async t => {
  const db = await engineDatabase(t)
  // The earlier operation is of an orchestration this engine does not run: it stays pending, its key free, until
  // an engine that runs it comes.
  const EARLIER = orchestration<Record<string, never>, number>('test::eager-earlier')
  const seen: string[] = []
  const { engine } = await db.stack({ concurrency: 2 })
  engine.register(ONE_STEP.name, async ctx => ctx.step('only', async () => { seen.push(ctx.operationId); return 1 }))
  await engine.work()
  const earlier = (await engine.start(EARLIER, {}, { key: 'turn' })).operation
  t.equal(earlier.status, 'pending')
  const later = (await engine.start(ONE_STEP, {}, { key: 'turn' })).operation
  t.equal(later.status, 'pending', 'not claimed though the key is free: an earlier operation on it is pending')
  const other = await db.stack({ concurrency: 1 })
  other.engine.register(EARLIER.name, async ctx => ctx.step('only', async () => { seen.push(ctx.operationId); return 1 }))
  await other.engine.work()
  t.equal((await other.engine.waitFor(EARLIER, earlier.id)).status, 'succeeded')
  t.equal((await engine.waitFor(ONE_STEP, later.id)).status, 'succeeded')
  t.same(seen, [earlier.id, later.id], 'in start order')
})

t.test('a start whose engine stopped before the commit is handed to another engine at once', async t => {
  const db = await engineDatabase(t)
  const a = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  // A long lease: the other engine can only get the operation by a hand-back, not a takeover.
  const b = await db.stack({ concurrency: 1, heartbeatSeconds: 300 })
  for (const s of [a, b]) s.engine.register(ONE_STEP.name, async ctx => ctx.step('where', async () => s === a ? 1 : 2))
  await a.engine.work()
  await b.engine.work()
  await settle(a.engine)
  let stopped: Promise<void> = Promise.resolve()
  const id = await inTransaction(a.pool, async client => {
    const { operation } = await a.engine.start(ONE_STEP, {}, { key: 'k3', db: client })
    t.equal(operation.status, 'running', 'claimed by engine a')
    stopped = a.engine.stop()
    await stopped
    return operation.id
  })
  const done = await b.engine.waitFor(ONE_STEP, id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded')
  t.equal(done.output, 2, 'engine b ran it')
  t.equal(done.attempts, 2, 'the hand-back counts as a run')
})

for (const idempotent of [false, true]) {
  t.test(`an orchestration registered with eagerStart: false is queued even with a slot free (${idempotent ? 'with an idempotency key: a start job' : 'due on its row, no start job'})`, async t => {
    const db = await engineDatabase(t)
    const { engine, pool } = await db.stack({ concurrency: 2 })
    const QUEUED = orchestration<Record<string, never>, number>('test::queued')
    engine.register(QUEUED.name, async ctx => ctx.step('only', async () => 3), { eagerStart: false })
    await engine.work()
    const { operation } = await engine.start(QUEUED, {}, { key: 'q1', ...(idempotent && { idempotencyKey: 'q1' }) })
    t.equal(operation.status, 'pending', 'not claimed by the start')
    t.equal(await startJobs(pool, operation.id), idempotent ? 1 : 0, idempotent ? 'queued with a start job' : 'no start job')
    t.equal((await engine.waitFor(QUEUED, operation.id)).output, 3, 'a fetch ran it')
  })
}
