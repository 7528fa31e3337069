// The batched statements keep every per-operation rule: a fetch's claims
// take one operation per key (the oldest), never a held one, never one
// operation twice; concurrent checkpoints share statements (group commit)
// while each stays fenced by its own lease, and one bad row fails only its
// own run.
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import t, { type Test } from 'tap'
import { orchestration } from '../../src/engine/index.ts'
import { RunWriter } from '../../src/engine/run-writer.ts'
import { wakeNextOnKeys, writeRuns } from '../../src/engine/sql/run-writes.ts'
import { claimDue, claimOperation, claimOperations, insertClaimedOperation } from '../../src/engine/sql/operations.ts'
import { selectSteps, type CheckpointRow } from '../../src/engine/sql/steps.ts'
import { inTransaction } from '../../src/db/queryable.ts'
import { logger, until } from './fixtures/setup.ts'
import { engineDatabase } from './helpers.ts'

const row = (position: number, output: unknown): CheckpointRow => ({
  position, name: `s${position}`, status: 'succeeded', attempts: 1, startedAt: new Date(), finishedAt: new Date(), output, error: null, progress: null
})

/**
 * An engine that runs nothing (concurrency 0) on a fresh database, and start(key): the id of a pending
 * test::batch operation, not due: with an idempotency key a queued start is delivered by a job, whose claim
 * the tests make by hand (claimOperation(..., 'job-…')).
 */
async function startsOnly (t: Parameters<typeof engineDatabase>[0]) {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const start = async (key: string) => (await engine.start(orchestration('test::batch'), {}, { key, idempotencyKey: randomUUID() })).operation.id
  return { pool, start, engine }
}

/** Whether backend `pid` is waiting for a lock another transaction holds. */
async function waitsForLock (pool: pg.Pool, pid: number): Promise<boolean> {
  return (await pool.query<{ n: number }>('SELECT cardinality(pg_blocking_pids($1)) AS n', [pid])).rows[0]!.n > 0
}

/**
 * Two connections for a lock race: `holder`, in an open transaction (a test's stand-in for another transaction
 * that holds rows), and `other`, for the statement under test; `blocked(what)` resolves once that statement
 * waits for a lock.
 */
async function lockRace (t: Test, pool: pg.Pool) {
  const holder = await pool.connect()
  const other = await pool.connect()
  t.teardown(() => { holder.release(); other.release() })
  await holder.query('BEGIN')
  const pid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  return { holder, other, blocked: (what: string) => until(() => waitsForLock(pool, pid), v => v, what) }
}

/**
 * Operation h on key k, claimed, and its ending statement (a finish, through `writer`) holding its snapshot while
 * it waits for a lock on h's row: here a test's, in life a lease renewal or a claim's lock on the key row.
 * `unlock()` lets it go on.
 */
async function endingHeld (t: Test, pool: pg.Pool, start: (key: string) => Promise<string>) {
  const h = await start('k')
  const lease = randomUUID()
  t.ok(await claimOperation(pool, h, lease, 'job-h'), 'h holds k')
  const { holder, other, blocked } = await lockRace(t, pool)
  await holder.query('SELECT 1 FROM toygres.operations WHERE id = $1 FOR UPDATE', [h])
  const writer = new RunWriter(other, logger)
  const ending = writer.write({ operationId: h, lease, rows: [], end: { kind: 'finish', status: 'succeeded', output: null, error: null } })
  await blocked('the ending statement waits')
  return { writer, ending, unlock: () => holder.query('COMMIT') }
}

t.test('a batch claim takes the oldest operation of each key, skips held ones, and one operation once', async t => {
  const { pool, start } = await startsOnly(t)
  const a1 = await start('a')
  const a2 = await start('a')
  const b1 = await start('b')
  const held = await start('c')
  t.ok(await claimOperation(pool, held, randomUUID(), 'job-held'), 'c is held by another run')
  const claims = [a2, a1, b1, b1, held].map((id, i) => ({ operationId: id, lease: randomUUID(), jobId: `job-${i}` }))
  const claimed = await claimOperations(pool, claims)
  t.same(claimed.map(c => c.id).sort(), [a1, b1].sort(), 'a1 (not the later a2), b1 once, not c')
  const b1Claim = claimed.find(c => c.id === b1)!
  t.ok(['job-2', 'job-3'].includes(b1Claim.lease_job ?? ''), 'b1 holds the lease of one of its two jobs')
  t.equal(b1Claim.lease, claims.find(c => c.jobId === b1Claim.lease_job!)!.lease)
  const keys = (await pool.query('SELECT key, operation_id FROM toygres.operation_keys ORDER BY key')).rows
  t.same(keys, [{ key: 'a', operation_id: a1 }, { key: 'b', operation_id: b1 }, { key: 'c', operation_id: held }])
  t.same(await claimOperations(pool, [{ operationId: a2, lease: randomUUID(), jobId: 'job-9' }]), [], 'a2 still waits for a1')
})

t.test('a job for an operation another fetch claims as due is refused, not waited for with its key taken: two fetches cannot deadlock', async t => {
  const { pool, start } = await startsOnly(t)
  // h holds key k; p waits behind it.
  const h = await start('k')
  const p = await start('k')
  t.ok(await claimOperation(pool, h, randomUUID(), 'job-h'))
  t.same(await claimOperations(pool, [{ operationId: p, lease: randomUUID(), jobId: 'job-p' }]), [], 'p\'s job is refused while h holds k')
  // h ends as a run's last write ends it: its key is freed and p, the next on k, is made due.
  await pool.query("UPDATE toygres.operations SET status = 'succeeded', finished_at = now(), lease = NULL, lease_until = NULL WHERE id = $1", [h])
  await pool.query('DELETE FROM toygres.operation_keys WHERE operation_id = $1', [h])
  await pool.query('UPDATE toygres.operations SET wake_at = now() WHERE id = $1', [p])

  // Fetch A claims p as due (its row, then k's row), uncommitted; fetch B, with p's start job (a late
  // duplicate), claims meanwhile. Had B taken k first and then waited for p's row, A and B would each wait
  // for the other: a deadlock, which PostgreSQL breaks after deadlock_timeout by failing one of them.
  const a = await pool.connect()
  const b = await pool.connect()
  t.teardown(() => { a.release(); b.release() })
  const bPid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid
  await a.query('BEGIN')
  const byA = await claimDue(a, 'test::batch', 10, 10, 3)
  t.same(byA.map(o => [o.id, o.status, o.lease !== null]), [[p, 'running', true]], 'A claims p, due, and takes k')
  await b.query('BEGIN')
  let bDone = false
  const byB = claimOperations(b, [{ operationId: p, lease: randomUUID(), jobId: 'job-p-again' }]).finally(() => { bDone = true })
  byB.catch(() => {})
  // B has answered, or is waiting for a lock (for p's row, behind A): only then does A commit.
  await until(async () => bDone || await waitsForLock(pool, bPid), v => v, 'B answers or waits')
  await a.query('COMMIT')
  t.same(await byB, [], 'B refuses p: A holds it, and B took nothing it would wait with')
  await b.query('COMMIT')
  t.same((await pool.query('SELECT key, operation_id FROM toygres.operation_keys')).rows, [{ key: 'k', operation_id: p }])
})

t.test('a due claim takes a key for the oldest pending operation on it only; the others wait for its holder, not due', async t => {
  const { pool, start } = await startsOnly(t)
  const h = await start('held')
  t.ok(await claimOperation(pool, h, randomUUID(), 'job-h'))
  const [p1, p2, w] = [await start('k'), await start('k'), await start('held')]
  await pool.query('UPDATE toygres.operations SET wake_at = now() WHERE id = ANY($1)', [[p1, p2, w]])
  const due = await claimDue(pool, 'test::batch', 10, 10, 3)
  const byId = new Map(due.map(o => [o.id, o]))
  t.same(due.map(o => o.id).sort(), [p1, p2, w].sort(), 'every due row is taken, to tell a full batch')
  t.match(byId.get(p1), { status: 'running', attempts: 1 }, 'p1, the oldest on k, is claimed')
  t.ok(byId.get(p1)!.lease)
  t.match(byId.get(p2), { status: 'pending', lease: null }, 'p2 is refused: p1 is older')
  t.match(byId.get(w), { status: 'pending', lease: null }, 'w is refused: h holds its key')
  const rows = (await pool.query('SELECT id, wake_at FROM toygres.operations WHERE id = ANY($1)', [[p2, w]])).rows
  t.same(rows.map(r => r.wake_at), [null, null], 'the refused wait for the keys\' holders to wake them, not due')
  t.same((await pool.query('SELECT key, operation_id, contended FROM toygres.operation_keys ORDER BY key')).rows,
    [{ key: 'held', operation_id: h, contended: true }, { key: 'k', operation_id: p1, contended: false }], 'h\'s key says a claim was refused on it')
  t.same(await claimDue(pool, 'test::batch', 10, 10, 3), [], 'nothing is due now')
})

t.test('a second look wakes one operation per key, the oldest, however many wait unwoken behind it', async t => {
  const { pool, start } = await startsOnly(t)
  const [p] = [await start('k'), await start('k'), await start('k')]
  t.equal(await wakeNextOnKeys(pool, ['k']), 1)
  const due = (await pool.query('SELECT id FROM toygres.operations WHERE wake_at IS NOT NULL')).rows.map(o => o.id)
  t.same(due, [p], 'p only')
})

t.test('a cancel of an unstarted operation wakes one operation behind it, the oldest', async t => {
  const { pool, start, engine } = await startsOnly(t)
  const [e, l1] = [await start('k'), await start('k'), await start('k')]
  t.equal(await engine.cancel(e), true)
  const due = (await pool.query('SELECT id FROM toygres.operations WHERE wake_at IS NOT NULL')).rows.map(o => o.id)
  t.same(due, [l1], 'l1 only')
})

for (const alongside of [false, true]) {
  t.test(`an operation queued while its key's holder ends is woken, though the ending statement's snapshot predates it${alongside ? ' (with the next batch)' : ''}`, async t => {
    const { pool, start } = await startsOnly(t)
    // h's ending statement waits, its snapshot taken, while p is started and its job refused for the key h holds.
    const { writer, ending, unlock } = await endingHeld(t, pool, start)
    const p = await start('k')
    t.same(await claimOperations(pool, [{ operationId: p, lease: randomUUID(), jobId: 'job-p' }]), [], 'p\'s job is refused: h holds k')
    // Another run's checkpoint, queued behind the ending statement: the wake-up does not wait for it.
    let next: Promise<unknown> = Promise.resolve()
    if (alongside) {
      const other = await start('other')
      const otherLease = randomUUID()
      t.ok(await claimOperation(pool, other, otherLease, 'job-other'))
      next = writer.write({ operationId: other, lease: otherLease, rows: [row(0, 'x')] })
    }
    await unlock()
    t.match(await ending, { held: true, cancelRequested: false, finished: { status: 'succeeded' } }, 'h ended')
    await next
    await writer.drained()
    t.equal(writer.stats.statements, alongside ? 2 : 1, 'the wake-up went in a statement of its own, beside the writes')
    t.same((await claimDue(pool, 'test::batch', 10, 10, 3)).map(o => o.id), [p], 'p is due: nothing else would start it')
  })
}

t.test('a key nobody was refused on is freed by the ending statement alone: no second look after its commit', async t => {
  const { pool, start } = await startsOnly(t)
  const h = await start('k')
  const lease = randomUUID()
  t.ok(await claimOperation(pool, h, lease, 'job-h'))
  const first = await writeRuns(pool, [{ operationId: h, lease, rows: [], end: { kind: 'finish', status: 'succeeded', output: null, error: null } }])
  t.match(first.results, [{ held: true }])
  t.same(first.unwokenKeys, [], 'nothing for the writer to look at again: nobody was refused on k')
  // Once a claim was refused on the key, its holder's end looks again.
  const h2 = await start('k')
  const lease2 = randomUUID()
  t.ok(await claimOperation(pool, h2, lease2, 'job-h2'))
  const p = await start('k')
  t.same(await claimOperations(pool, [{ operationId: p, lease: randomUUID(), jobId: 'job-p' }]), [], 'p is refused: h2 holds k')
  t.same((await pool.query('SELECT contended FROM toygres.operation_keys WHERE key = $1', ['k'])).rows, [{ contended: true }], 'and marks k')
  const { unwokenKeys } = await writeRuns(pool, [{ operationId: h2, lease: lease2, rows: [], end: { kind: 'finish', status: 'succeeded', output: null, error: null } }])
  t.same(unwokenKeys, ['k'], 'k is looked at again after the commit')
  t.same((await claimDue(pool, 'test::batch', 10, 10, 3)).map(o => o.id), [p], 'p, seen by the ending statement, was made due there')
})

t.test('the second look waits for a row another transaction holds, and goes on to the next operation when that one was cancelled', async t => {
  const { pool, start } = await startsOnly(t)
  const h = await start('k')
  const p = await start('k')
  const q = await start('k')
  const lease = randomUUID()
  t.ok(await claimOperation(pool, h, lease, 'job-h'))
  // p's cancel (cancelUnstarted's UPDATE) in a caller's transaction, still open while h ends.
  const { holder, other, blocked } = await lockRace(t, pool)
  await holder.query('UPDATE toygres.operations SET status = \'cancelled\', finished_at = now() WHERE id = $1', [p])
  const { unwokenKeys } = await writeRuns(pool, [{ operationId: h, lease, rows: [], end: { kind: 'finish', status: 'succeeded', output: null, error: null } }])
  t.same(unwokenKeys, ['k'], 'p\'s row was locked: k is looked at again after the commit')
  const woken = wakeNextOnKeys(other, unwokenKeys)
  await blocked('the second look waits for p\'s row')
  await holder.query('COMMIT')
  t.equal(await woken, 1, 'one operation woken')
  t.same((await claimDue(pool, 'test::batch', 10, 10, 3)).map(o => o.id), [q], 'q, the next after the cancelled p, is due')
})

t.test('a key a claim was refused on is looked at again though its holder\'s end woke another operation: the refused one may be older', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const A = orchestration('test::batch')
  const h = (await engine.start(A, {}, { key: 'k', idempotencyKey: 'h' })).operation.id
  const lease = randomUUID()
  t.ok(await claimOperation(pool, h, lease, 'job-h'))
  // p's start began first (the older created_at) and commits late; q, newer and of another orchestration, is committed.
  const x = await pool.connect()
  t.teardown(() => x.release())
  await x.query('BEGIN')
  const p = (await engine.start(A, {}, { key: 'k', db: x, idempotencyKey: 'p' })).operation.id
  const q = (await engine.start(orchestration('test::other'), {}, { key: 'k' })).operation.id
  // h's ending statement takes its snapshot (without p), then waits for h's row.
  const { holder, other, blocked } = await lockRace(t, pool)
  await holder.query('SELECT 1 FROM toygres.operations WHERE id = $1 FOR UPDATE', [h])
  const ending = writeRuns(other, [{ operationId: h, lease, rows: [], end: { kind: 'finish', status: 'succeeded', output: null, error: null } }])
  await blocked('the ending statement waits')
  await x.query('COMMIT')
  t.same(await claimOperations(pool, [{ operationId: p, lease: randomUUID(), jobId: 'job-p' }]), [], 'p is refused: h still holds k')
  await holder.query('COMMIT')
  const { unwokenKeys } = await ending
  t.same((await claimDue(pool, 'test::other', 10, 10, 3)).map(o => o.id), [q], 'the ending statement made q due, the next it could see')
  t.same(unwokenKeys, ['k'], 'and still returns k: a claim was refused on it')
  t.equal(await wakeNextOnKeys(pool, unwokenKeys), 1)
  t.same((await claimDue(pool, A.name, 10, 10, 3)).map(o => o.id), [p], 'p, the oldest, is due: q\'s claim would wait behind it')
})

t.test('a cancel of a pending operation looks at its key again once it commits: one refused behind it meanwhile is woken', async t => {
  const { pool, start, engine } = await startsOnly(t)
  const e = await start('k')
  let later = ''
  await inTransaction(pool, async x => {
    // The cancel's statement has its snapshot; then l starts and is refused behind e, still pending to everyone else.
    t.equal(await engine.cancel(e, { db: x }), true)
    later = await start('k')
    t.same(await claimOperations(pool, [{ operationId: later, lease: randomUUID(), jobId: 'job-l' }]), [], 'l is refused: e is older and pending')
  })
  await until(() => claimDue(pool, 'test::batch', 10, 10, 3), due => due.length > 0, 'l is due', 10_000)
    .then(due => t.same(due.map(o => o.id), [later], 'l is due: nothing else would start it'))
})

t.test('a claim that waits for a cancel to commit takes no key: it locks the operation before the key', async t => {
  const { pool, start } = await startsOnly(t)
  const p = await start('k')
  const { holder, other, blocked } = await lockRace(t, pool)
  await holder.query('UPDATE toygres.operations SET status = \'cancelled\', finished_at = now() WHERE id = $1', [p])
  const claim = claimOperations(other, [{ operationId: p, lease: randomUUID(), jobId: 'job-p' }])
  await blocked('the claim waits for p\'s row')
  await holder.query('COMMIT')
  t.same(await claim, [], 'p is cancelled: not claimed')
  t.same((await pool.query('SELECT key FROM toygres.operation_keys')).rows, [], 'and k is not left held by it')
})

t.test('an eager start refused for a busy key is due on its row: it runs though its key\'s holder ended before it committed', async t => {
  const { pool, start } = await startsOnly(t)
  // h's ending statement waits, its snapshot taken; p's one-statement start is refused for the key h still holds,
  // in a transaction that commits only after h ended and its writer looked again.
  const { writer, ending, unlock } = await endingHeld(t, pool, start)
  const y = await pool.connect()
  t.teardown(() => y.release())
  await y.query('BEGIN')
  const p = await insertClaimedOperation(y, { id: randomUUID(), name: 'test::batch', key: 'k', input: {}, trace: false }, randomUUID(), 10)
  t.equal(p.lease, null, 'refused: h holds k')
  await unlock()
  t.match(await ending, { held: true, finished: { status: 'succeeded' } }, 'h ended')
  await writer.drained()
  await y.query('COMMIT')
  t.same((await pool.query('SELECT key FROM toygres.operation_keys')).rows, [], 'k is free, and no holder is left to wake p')
  t.same((await claimDue(pool, 'test::batch', 10, 10, 3)).map(o => o.id), [p.id], 'p is due from its own row: a fetch claims it')
})

t.test('a fetch\'s due rows never outnumber its free slots: timers and pending operations by wake-up time, then lapsed leases', async t => {
  const { pool, start } = await startsOnly(t)
  const [t1, p1, t2, l1] = [await start('t1'), await start('p1'), await start('t2'), await start('l1')]
  const set = (id: string, sql: string) => pool.query(`UPDATE toygres.operations SET ${sql} WHERE id = $1`, [id])
  await set(t1, "status = 'running', attempts = 1, wake_at = now() - interval '3 s'")
  await set(p1, "wake_at = now() - interval '2 s'")
  await set(t2, "status = 'running', attempts = 1, wake_at = now() - interval '1 s'")
  await set(l1, "status = 'running', attempts = 1, lease = gen_random_uuid(), lease_until = now() - interval '1 s'")
  const first = await claimDue(pool, 'test::batch', 3, 10, 3)
  t.same(first.map(o => o.id).sort(), [t1, p1, t2].sort(), 'three slots: the two timers and the pending one, by wake-up time; not the lapsed lease too')
  t.ok(first.every(o => o.lease !== null && o.status === 'running'), 'all three claimed, the pending one with its key')
  // One slot is left for the lapsed lease at the next fetch.
  const second = await claimDue(pool, 'test::batch', 2, 10, 3)
  t.same(second.map(o => o.id), [l1])
})

t.test('concurrent checkpoints share statements, each fenced by its own lease; a bad row fails only its own write', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const ops: Array<{ id: string, lease: string }> = []
  for (let i = 0; i < 20; i++) {
    const { operation } = await engine.start(orchestration('test::batch'), {}, { key: `k${i}`, idempotencyKey: `k${i}` })
    const lease = randomUUID()
    t.ok(await claimOperation(pool, operation.id, lease, `job-${i}`))
    ops.push({ id: operation.id, lease })
  }
  const writer = new RunWriter(pool, logger)
  const zombie = ops[3]!
  const poisoned = ops[7]!
  const results = await Promise.allSettled(ops.map((op, i) => writer.write({
    operationId: op.id,
    lease: op === zombie ? randomUUID() : op.lease,
    // PostgreSQL's jsonb refuses \u0000: the whole shared statement fails.
    rows: [row(0, `first-${i}`), row(1, op === poisoned ? 'nul \u0000 here' : `second-${i}`)]
  })))
  t.ok(writer.stats.statements < writer.stats.writes, `${writer.stats.writes} writes in ${writer.stats.statements} statements`)
  for (const [i, op] of ops.entries()) {
    const result = results[i]!
    const steps = (await selectSteps(pool, op.id)).map(s => s.output)
    if (op === poisoned) {
      t.equal(result.status, 'rejected', 'the bad row fails its own write')
      t.same(steps, [], 'and none of its rows landed')
    } else if (op === zombie) {
      t.match(result, { status: 'fulfilled', value: { held: false } }, 'a write with a lost lease is refused')
      t.same(steps, [])
    } else {
      t.match(result, { status: 'fulfilled', value: { held: true, cancelRequested: false } })
      t.same(steps, [`first-${i}`, `second-${i}`])
    }
  }
})

t.test('a zombie\'s write and its new owner\'s in one statement: only the owner\'s lands, and each hears its own outcome', async t => {
  const { pool, start } = await startsOnly(t)
  const id = await start('z')
  const zombie = randomUUID()
  t.ok(await claimOperation(pool, id, zombie, 'job-z'))
  // Its lease lapsed and a fetch of the same process took the operation over: both runs' writes can meet in one batch.
  const owner = randomUUID()
  await pool.query('UPDATE toygres.operations SET lease = $2 WHERE id = $1', [id, owner])
  const { results } = await writeRuns(pool, [
    { operationId: id, lease: zombie, rows: [row(0, 'the zombie\'s')], end: { kind: 'finish', status: 'failed', output: null, error: { message: 'the zombie\'s end' } } },
    { operationId: id, lease: owner, rows: [row(1, 'the owner\'s')] }
  ])
  t.match(results, [{ held: false }, { held: true }], 'in the order of the writes')
  t.notOk(results[0]!.finished, 'the zombie is told nothing finished')
  t.same((await selectSteps(pool, id)).map(s => s.output), ['the owner\'s'], 'none of the zombie\'s rows')
  t.match(await pool.query('SELECT status, lease FROM toygres.operations WHERE id = $1', [id]), { rows: [{ status: 'running', lease: owner }] }, 'nor its end')
})

t.test('an orchestration\'s own concurrency: its fetcher fills that many slots and claims no more', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const { engine, pool } = await db.stack({ concurrency: 1 })
  let release!: () => void
  const gate = new Promise<void>(resolve => { release = resolve })
  let running = 0
  engine.register('test::wide', async ctx => ctx.step('wait', async () => {
    running++
    await gate
    running--
  }), { concurrency: 3 })
  await engine.work()
  const ids: string[] = []
  for (let i = 0; i < 6; i++) ids.push((await api.engine.start(orchestration('test::wide'), {}, { key: `w${i}` })).operation.id)
  await until(async () => running, n => n === 3, 'three runs at once (not the engine\'s one)')
  const { rows } = await pool.query<{ status: string, n: number }>(
    "SELECT status, count(*)::int AS n FROM toygres.operations WHERE name = 'test::wide' GROUP BY 1 ORDER BY 1")
  t.same(rows, [{ status: 'pending', n: 3 }, { status: 'running', n: 3 }], 'three claimed, three left for free slots')
  const { rows: [due] } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM toygres.operations WHERE name = 'test::wide' AND status = 'pending' AND wake_at <= now()")
  t.equal(due!.n, 3, 'still due on their rows (queued starts without an idempotency key have no job)')
  release()
  for (const id of ids) t.equal((await api.engine.waitFor(id, { timeoutMs: 30_000 })).status, 'succeeded')
})

t.test('starts are not starved by due timers: with every slot wanted by operations always due, a new start still runs', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const { engine } = await db.stack({ concurrency: 1 })
  // A looping operation is due again the moment its run ends (continueAsNew),
  // so with three of them and one slot there is always a due row to claim.
  const runs = new Map<string, number>()
  engine.register<{ loop: boolean }, string>('test::busy', async (ctx, input) => {
    if (!input.loop) return ctx.step('once', async () => 'ran')
    await ctx.step('spin', async () => { runs.set(ctx.operationId, (runs.get(ctx.operationId) ?? 0) + 1) })
    return ctx.continueAsNew(input)
  })
  await engine.work()
  const loopers: string[] = []
  for (let i = 0; i < 3; i++) loopers.push((await api.engine.start(orchestration('test::busy'), { loop: true }, { key: `loop-${i}` })).operation.id)
  await until(async () => loopers.every(id => (runs.get(id) ?? 0) >= 3), Boolean, 'every looper ran three times (their starts were claimed)')
  // With an idempotency key the start is a job (one without is a due row, taken in wake-up order among the timers).
  const { operation } = await api.engine.start(orchestration('test::busy'), { loop: false }, { key: 'once', idempotencyKey: 'once' })
  const done = await api.engine.waitFor(operation.id, { timeoutMs: 30_000 })
  t.equal(done.status, 'succeeded', 'the start was claimed while timers kept the only slot wanted')
  t.same(done.output, 'ran')
  for (const id of loopers) await api.engine.cancel(id)
  for (const id of loopers) t.equal((await api.engine.waitFor(id, { timeoutMs: 30_000 })).status, 'cancelled')
})
