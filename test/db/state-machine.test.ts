// The instance state machine is enforced by the database (the trigger in
// migrations 003 and 007), whatever code path writes: every transition it
// allows works, every other one is refused, and every change of state or
// health writes exactly one event.
import pg from 'pg'
import { pino } from 'pino'
import t from 'tap'
import { migrate } from '../../src/db/migrate.ts'
import { createTestDatabase } from '../helpers/db.ts'

const STATES = ['creating', 'running', 'failed', 'deleting', 'delete_failed', 'stopping', 'stopped', 'starting', 'restarting', 'updating'] as const

// The state machine, written out independently of the trigger it checks.
const ALLOWED: Record<string, string[]> = {
  creating: ['running', 'failed', 'deleting'],
  running: ['restarting', 'stopping', 'updating', 'deleting'],
  restarting: ['running', 'deleting'],
  updating: ['running', 'deleting'],
  stopping: ['stopped', 'running', 'deleting'],
  stopped: ['starting', 'deleting'],
  starting: ['running', 'stopped', 'deleting'],
  failed: ['deleting'],
  deleting: ['delete_failed'],
  delete_failed: ['deleting']
}

t.test('every transition: allowed ones work, the rest are refused, each writes one event', async t => {
  const url = await createTestDatabase(t)
  await migrate(url, pino({ level: 'silent' }))
  const pool = new pg.Pool({ connectionString: url })
  t.teardown(() => pool.end())
  let n = 0
  for (const from of STATES) {
    for (const to of STATES) {
      if (from === to) continue
      const id = crypto.randomUUID()
      await pool.query(
        `INSERT INTO toygres.instances (id, name, namespace, postgres_version, storage_size_gb, use_load_balancer, password_ciphertext)
         VALUES ($1, $2, 'toygres', '18', 1, false, 'x')`, [id, `sm-${n++}`])
      // Put it in `from` without the trigger's judgement (a test's privilege), then let the trigger judge `to`.
      await pool.query('ALTER TABLE toygres.instances DISABLE TRIGGER instances_guard_state')
      await pool.query('UPDATE toygres.instances SET state = $2 WHERE id = $1', [id, from])
      await pool.query('ALTER TABLE toygres.instances ENABLE TRIGGER instances_guard_state')
      const before = await eventCount(pool, id)
      const result = await pool.query('UPDATE toygres.instances SET state = $2 WHERE id = $1', [id, to]).then(() => 'ok', (err: { code?: string, constraint?: string }) => `${err.code}/${err.constraint}`)
      const allowed = ALLOWED[from]!.includes(to)
      t.equal(result, allowed ? 'ok' : '23514/instance_state_transition', `${from} → ${to} ${allowed ? 'allowed' : 'refused'}`)
      t.equal(await eventCount(pool, id) - before, allowed ? 1 : 0, `${from} → ${to}: ${allowed ? 'one event' : 'no event'}`)
    }
  }

  const id = crypto.randomUUID()
  await pool.query(
    `INSERT INTO toygres.instances (id, name, namespace, postgres_version, storage_size_gb, use_load_balancer, password_ciphertext)
     VALUES ($1, 'health-events', 'toygres', '18', 1, false, 'x')`, [id])
  t.equal(await eventCount(pool, id), 1, 'the insert itself is one state event')
  await pool.query("UPDATE toygres.instances SET health = 'healthy' WHERE id = $1", [id])
  await pool.query("UPDATE toygres.instances SET health = 'healthy', consecutive_failures = 1 WHERE id = $1", [id])
  await pool.query("UPDATE toygres.instances SET state = 'running', health = 'unhealthy' WHERE id = $1", [id])
  const { rows } = await pool.query('SELECT kind, from_value, to_value FROM toygres.instance_events WHERE instance_id = $1 ORDER BY id', [id])
  t.same(rows, [
    { kind: 'state', from_value: null, to_value: 'creating' },
    { kind: 'health', from_value: 'unknown', to_value: 'healthy' },
    { kind: 'state', from_value: 'creating', to_value: 'running' },
    { kind: 'health', from_value: 'healthy', to_value: 'unhealthy' }
  ], 'a change of health is one event; an update that changes neither writes none; state and health together write one each')
})

async function eventCount (pool: pg.Pool, id: string): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM toygres.instance_events WHERE instance_id = $1', [id])).rows[0]!.n
}
