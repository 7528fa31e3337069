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
import { orchestration } from '../../src/engine/index.ts'
import { engineDatabase, startJobs } from './helpers.ts'

const ONE_STEP = orchestration<Record<string, never>, number>('test::queued-start')

/** The start jobs pg-boss holds for `operationId`, and whether its row is due (wake_at passed). */
async function queuedAs (pool: pg.Pool, operationId: string): Promise<{ jobs: number, due: boolean }> {
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

  const { operation, created } = await api.engine.start(ONE_STEP, {}, { key: 'k1' })
  t.ok(created)
  t.equal(operation.status, 'pending', 'not claimed: no slot in this process')
  t.same(await queuedAs(api.pool, operation.id), { jobs: 0, due: true }, 'due on its row, no start job')
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
