// A run's end passes its key straight to the next operation on it
// (RunEnd takeNext): in the ending statement, that operation is claimed for
// the same process and runs in the slot the run leaves, with no fetch. Only
// an operation of the same orchestration (the slot is that orchestration's),
// only the key's oldest pending one, never one whose row a fetch holds, and
// never while the engine stops.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import t, { type Test } from 'tap'
import { orchestration } from '../../src/engine/index.ts'
import { writeRuns, type RunWrite } from '../../src/engine/sql/run-writes.ts'
import { claimOperation } from '../../src/engine/sql/operations.ts'
import { until } from './fixtures/setup.ts'
import { engineDatabase } from './helpers.ts'

const BATCH = orchestration('test::batch')
const OTHER = orchestration('test::other')

/**
 * An engine that runs nothing (concurrency 0): start() leaves each operation pending, not due (with an
 * idempotency key a queued start is delivered by a job, which claim() stands in for), as an operation waiting
 * behind its key's holder is.
 */
async function startsOnly (t: Test) {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const start = async (key: string, name = BATCH) => (await engine.start(name, {}, { key, idempotencyKey: randomUUID() })).operation.id
  /** Operation `id` claimed, as a fetch would: its lease. */
  const claim = async (id: string) => {
    const lease = randomUUID()
    t.ok(await claimOperation(pool, id, lease, `job-${id}`), 'claimed')
    return lease
  }
  return { pool, start, claim }
}

const finish = (operationId: string, lease: string, takeNext: boolean): RunWrite => ({
  operationId, lease, rows: [], end: { kind: 'finish', status: 'succeeded', output: null, error: null, ...(takeNext && { takeNext: { leaseSeconds: 10 } }) }
})

async function state (pool: pg.Pool, id: string) {
  const { rows: [op] } = await pool.query(`SELECT o.status, o.lease, o.wake_at, o.attempts, k.operation_id IS NOT NULL AS holds_key
    FROM toygres.operations o LEFT JOIN toygres.operation_keys k ON k.key = o.key AND k.operation_id = o.id WHERE o.id = $1`, [id])
  return op as { status: string, lease: string | null, wake_at: Date | null, attempts: number, holds_key: boolean }
}

t.test('a finish that takes the next claims the key\'s oldest pending operation in the same statement', async t => {
  const { pool, start, claim } = await startsOnly(t)
  const h = await start('k')
  const b1 = await start('k')
  const b2 = await start('k')
  const lease = await claim(h)
  const { results: [res], unwokenKeys } = await writeRuns(pool, [finish(h, lease, true)])
  t.ok(res!.held && res!.finished, 'h finished')
  t.equal(res!.next?.id, b1, 'the oldest pending operation on the key is claimed')
  t.equal(res!.next?.status, 'running')
  t.equal(res!.next?.attempts, 1, 'its first run')
  t.same(unwokenKeys, [], 'the key was passed on, not freed')
  const b1State = await state(pool, b1)
  t.match(b1State, { status: 'running', lease: res!.next!.lease, wake_at: null, holds_key: true }, 'b1 holds the key, leased to this run')
  const { rows: [{ same }] } = await pool.query('SELECT b.started_at = h.finished_at AS same FROM toygres.operations b, toygres.operations h WHERE b.id = $1 AND h.id = $2', [b1, h])
  t.equal(same, true, 'started in the statement that finished h')
  t.match(await state(pool, b2), { status: 'pending', lease: null, wake_at: null, holds_key: false }, 'b2 still waits its turn')

  // Without takeNext the key is freed and the next operation made due for any fetch, as before.
  const { results: [res2] } = await writeRuns(pool, [finish(b1, res!.next!.lease, false)])
  t.equal(res2!.next, undefined, 'nothing claimed')
  const b2State = await state(pool, b2)
  t.equal(b2State.status, 'pending')
  t.not(b2State.wake_at, null, 'b2 is due')
  t.equal(b2State.holds_key, false, 'the key is free')
})

t.test('a finish does not take an operation of another orchestration: it is made due, for an engine that runs it', async t => {
  const { pool, start, claim } = await startsOnly(t)
  const h = await start('k')
  const other = await start('k', OTHER)
  const { results: [res] } = await writeRuns(pool, [finish(h, await claim(h), true)])
  t.equal(res!.next, undefined, 'not claimed: this run\'s slot is test::batch\'s')
  const o = await state(pool, other)
  t.match(o, { status: 'pending', lease: null, holds_key: false })
  t.not(o.wake_at, null, 'made due')
})

t.test('a next operation whose row another transaction holds is neither taken nor waited for', { timeout: 30_000 }, async t => {
  const { pool, start, claim } = await startsOnly(t)
  const h = await start('k')
  const b = await start('k')
  const later = await start('k')
  const lease = await claim(h)
  const x = await pool.connect()
  t.teardown(() => x.release())
  // In life: a fetch that locked b's row as due (claimDue) and will ask for the key next.
  await x.query('BEGIN')
  await x.query('SELECT 1 FROM toygres.operations WHERE id = $1 FOR UPDATE', [b])
  // Waiting for b's row here would hang this test until tap's timeout.
  const { results: [res], unwokenKeys } = await writeRuns(pool, [finish(h, lease, true)])
  await x.query('COMMIT')
  t.equal(res!.next, undefined, 'b not taken, nor the operation after it (the key\'s start order holds)')
  t.same(unwokenKeys, ['k'], 'the key is freed with nobody woken: the caller wakes its next operation after the commit')
  t.match(await state(pool, b), { status: 'pending', holds_key: false })
  t.match(await state(pool, later), { status: 'pending', wake_at: null, holds_key: false })
})

t.test('a run\'s end hands its slot to the next operation on its key: it runs here, started by that end, with no fetch', async t => {
  const db = await engineDatabase(t)
  // One slot, and a poll far away: only the hand-off or a NOTIFY-driven fetch can start b.
  const { engine, pool } = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const ran: string[] = []
  const STEP = orchestration<Record<string, never>, string>('test::hand-off')
  engine.register(STEP.name, async ctx => ctx.step('only', async () => {
    ran.push(ctx.operationId)
    if (ran.length === 1) await gate
    return ctx.operationId
  }))
  await engine.work()
  const a = (await engine.start(STEP, {}, { key: 'k' })).operation
  t.equal(a.status, 'running', 'a took the slot')
  await until(async () => ran.length, n => n === 1, 'a is in its step')
  const b = (await engine.start(STEP, {}, { key: 'k' })).operation
  t.equal(b.status, 'pending', 'b waits for the key (and the slot)')
  release()
  t.equal((await engine.waitFor(STEP, b.id, { timeoutMs: 30_000 })).status, 'succeeded')
  t.same(ran, [a.id, b.id], 'in start order')
  const { rows: [{ same }] } = await pool.query('SELECT b.started_at = a.finished_at AS same FROM toygres.operations a, toygres.operations b WHERE a.id = $1 AND b.id = $2', [a.id, b.id])
  t.equal(same, true, 'b was claimed by the statement that finished a (a fetch is a later transaction)')
})

t.test('a run ending while its engine stops takes nothing: the next operation is left due for another engine', async t => {
  const db = await engineDatabase(t)
  const first = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  const STEP = orchestration<Record<string, never>, number>('test::hand-off-stop')
  let entered = false
  first.engine.register(STEP.name, async ctx => ctx.step('only', async () => { entered = true; await gate; return 1 }))
  await first.engine.work()
  const a = (await first.engine.start(STEP, {}, { key: 'k' })).operation
  await until(async () => entered, v => v, 'a is in its step')
  const b = (await first.engine.start(STEP, {}, { key: 'k' })).operation
  const stopped = first.engine.stop()
  release()
  await stopped
  t.equal((await first.engine.getOperation(a.id))?.status, 'succeeded', 'a finished within the grace period')
  const left = await state(first.pool, b.id)
  t.match(left, { status: 'pending', lease: null, holds_key: false }, 'b was not claimed by the stopping engine')
  t.not(left.wake_at, null, 'b is due')
  const second = await db.stack({ concurrency: 1 })
  second.engine.register(STEP.name, async ctx => ctx.step('only', async () => 2))
  await second.engine.work()
  const done = await second.engine.waitFor(STEP, b.id, { timeoutMs: 30_000 })
  t.equal(done.output, 2, 'another engine ran b')
  t.equal(done.attempts, 1, 'its first run')
})

t.test('runs a fetch claims after its engine began to stop are handed back, due now, for another engine', async t => {
  const db = await engineDatabase(t)
  const starter = await db.stack({ concurrency: 0 })
  const stopping = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60 })
  const X = orchestration<Record<string, never>, number>('test::fetch-while-stopping')
  stopping.engine.register(X.name, async ctx => ctx.step('where', async () => 1))
  // k is held, and its row locked: the stopping engine's fetch will wait inside its claim.
  const h = (await starter.engine.start(orchestration('test::holder'), {}, { key: 'k', idempotencyKey: 'h' })).operation.id
  t.ok(await claimOperation(starter.pool, h, randomUUID(), 'job-h'))
  const lock = await starter.pool.connect()
  t.teardown(() => lock.release())
  await lock.query('BEGIN')
  await lock.query('SELECT 1 FROM toygres.operation_keys WHERE key = \'k\' FOR UPDATE')
  const p = (await starter.engine.start(X, {}, { key: 'k' })).operation.id
  await stopping.engine.work()
  await until(async () => (await starter.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = \'Lock\'')).rows[0]!.n, n => n > 0, 'the fetch waits on k')
  const stopped = stopping.engine.stop()
  // h ends (as its finish would: key freed), and the fetch's claim of p goes through after the stop began.
  await lock.query('DELETE FROM toygres.operation_keys WHERE key = \'k\'')
  await lock.query('UPDATE toygres.operations SET status = \'succeeded\', lease = NULL, finished_at = now() WHERE id = $1', [h])
  await lock.query('COMMIT')
  await stopped
  const { rows: [back] } = await starter.pool.query('SELECT status, lease, wake_at <= now() AS due FROM toygres.operations WHERE id = $1', [p])
  t.same(back, { status: 'running', lease: null, due: true }, 'handed back before stop() returned')
  const other = await db.stack({ concurrency: 1 })
  other.engine.register(X.name, async ctx => ctx.step('where', async () => 2))
  await other.engine.work()
  const done = await other.engine.waitFor(X, p, { timeoutMs: 30_000 })
  t.equal(done.output, 2, 'the other engine ran p, not the stopped one')
})

t.test('an operation:finished listener that throws does not lose the next operation its run\'s end claimed', async t => {
  const db = await engineDatabase(t)
  // A poll far away and a lease of 300 s: a lost hand-off would leave b unrun past the test's wait.
  const { engine } = await db.stack({ concurrency: 1, pollingIntervalSeconds: 60, heartbeatSeconds: 300 })
  const STEP = orchestration<Record<string, never>, number>('test::hand-off-listener')
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  let entered = false
  engine.register(STEP.name, async ctx => ctx.step('only', async () => { if (!entered) { entered = true; await gate } return 1 }))
  await engine.work()
  engine.on('operation:finished', () => { throw new Error('a listener\'s bug') })
  const a = (await engine.start(STEP, {}, { key: 'k' })).operation
  await until(async () => entered, v => v, 'a is in its step')
  const b = (await engine.start(STEP, {}, { key: 'k' })).operation
  release()
  t.equal((await engine.waitFor(STEP, a.id, { timeoutMs: 10_000 })).status, 'succeeded')
  t.equal((await engine.waitFor(STEP, b.id, { timeoutMs: 10_000 })).status, 'succeeded', 'b ran in a\'s slot')
})
