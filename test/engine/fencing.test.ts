import { orchestration } from '../../src/engine/index.ts'
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { engineDatabase } from './helpers.ts'
import { until } from './fixtures/setup.ts'
import { claimOperation, finishOperation, releaseLease, renewOperation } from '../../src/engine/sql/operations.ts'
import { selectSteps, writeCheckpoint, type CheckpointRow } from '../../src/engine/sql/steps.ts'

/** The run's process stopped renewing its lease a while ago (the dispatcher renews every half lease). */
const lapse = (pool: pg.Pool, id: string) => pool.query("UPDATE toygres.operations SET lease_until = now() - interval '1 second' WHERE id = $1", [id])

const row = (position: number, output: unknown): CheckpointRow => ({
  position, name: `s${position}`, status: 'succeeded', attempts: 1, startedAt: new Date(), finishedAt: new Date(), output, error: null, progress: null
})

// The starts carry idempotency keys, so each is queued with a start job, whose claim a test makes by hand.

t.test('a zombie that lost its lease cannot write checkpoints', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const { operation } = await engine.start(orchestration('test::fenced'), {}, { key: 'a', idempotencyKey: 'fenced-a' })
  const claim = async (lease: string, job: string) => {
    return claimOperation(pool, operation.id, lease, job)
  }
  const zombie = randomUUID()
  const owner = randomUUID()
  t.ok(await claim(zombie, 'job-1'), 'first run claims')
  t.equal(await claim(randomUUID(), 'job-2'), null, 'a live lease cannot be taken')
  t.match(await writeCheckpoint(pool, operation.id, zombie, row(0, 'zombie-0')), { held: true })
  // The first run's process stops renewing (paused, cut off): its lease lapses and another run takes over.
  await lapse(pool, operation.id)
  t.ok(await claim(owner, 'job-2'), 'a lapsed lease is taken over')
  t.match(await writeCheckpoint(pool, operation.id, zombie, row(1, 'zombie-1')), { held: false }, 'zombie write refused')
  t.match(await writeCheckpoint(pool, operation.id, owner, row(1, 'owner-1')), { held: true })
  t.match(await writeCheckpoint(pool, operation.id, zombie, row(1, 'zombie-again')), { held: false })
  t.same((await selectSteps(pool, operation.id)).map(s => s.output), ['zombie-0', 'owner-1'])
})

t.test('a checkpoint racing a claim either lands before it or not at all', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const { operation } = await engine.start(orchestration('test::fenced'), {}, { key: 'b', idempotencyKey: 'fenced-b' })
  const old = randomUUID()
  await pool.query('UPDATE toygres.operations SET status = $2, lease = $3, lease_job = $4 WHERE id = $1', [operation.id, 'running', old, 'job'])
  // Hold the claim's row lock open, then let the zombie's write queue behind it.
  const claimer = await pool.connect()
  await claimer.query('BEGIN')
  await claimer.query('UPDATE toygres.operations SET lease = $2 WHERE id = $1', [operation.id, randomUUID()])
  const pending = writeCheckpoint(pool, operation.id, old, row(0, 'late'))
  await until(async () => (await pool.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR SHARE%'")).rows[0].n,
  n => n === 1, 'the checkpoint waiting on the claim\'s lock')
  await claimer.query('COMMIT')
  claimer.release()
  t.match(await pending, { held: false }, 're-checked against the committed claim')
  t.same(await selectSteps(pool, operation.id), [])
})

t.test('a zombie cannot end, release or renew the operation: every final write is fenced', async t => {
  const db = await engineDatabase(t)
  const { engine, pool } = await db.stack({ concurrency: 0 })
  const { operation } = await engine.start(orchestration('test::fenced'), {}, { key: 'c', idempotencyKey: 'fenced-c' })
  const zombie = randomUUID()
  const owner = randomUUID()
  t.ok(await claimOperation(pool, operation.id, zombie, 'job-1'))
  await lapse(pool, operation.id)
  t.ok(await claimOperation(pool, operation.id, owner, 'job-2'), 'a lapsed lease is taken over')
  t.equal(await finishOperation(pool, operation.id, zombie, 'failed', undefined, { message: 'zombie says failed' }), false, 'the zombie\'s finish is refused')
  t.equal(await releaseLease(pool, operation.id, zombie, new Date()), false)
  t.equal(await renewOperation(pool, operation.id, zombie, { round: 99 }), false)
  const row = (await pool.query('SELECT status, error, lease, input FROM toygres.operations WHERE id = $1', [operation.id])).rows[0]
  t.same(row, { status: 'running', error: null, lease: owner, input: {} }, 'the owner\'s operation is as the owner left it')
  t.ok(await finishOperation(pool, operation.id, owner, 'succeeded', 'done', null), 'the owner finishes')
  t.equal((await engine.getOperation(operation.id))!.status, 'succeeded')
  t.equal((await engine.getOperation(operation.id))!.output, 'done')
})
