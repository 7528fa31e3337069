// The instance state machine is enforced by the database (the trigger in
// migrations 003 and 007), whatever code path writes: every transition it
// allows works, every other one is refused, and every change of state or
// health writes exactly one event.
import pg from 'pg'
import { pino } from 'pino'
import t from 'tap'
import { migrate } from '../../src/db/migrate.ts'
import { createTestDatabase, testPool } from '../helpers/db.ts'

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
  const pool = testPool(t, url)
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

t.test('markRunning answers the same when replayed, and false once a delete overtook the create', async t => {
  const url = await createTestDatabase(t)
  await migrate(url, pino({ level: 'silent' }))
  const pool = testPool(t, url)
  const { insertInstance, markRunning, markDeleting } = await import('../../src/db/instances.ts')
  const info = { ip_connection_string: 'postgresql://postgres@127.0.0.1:1/postgres', dns_connection_string: null, external_ip: null, dns_name: null, server_version: 'PostgreSQL 17.2', deployment_time_seconds: 3 }
  const make = async (name: string) => {
    const id = crypto.randomUUID()
    await insertInstance(pool, { id, name, namespace: 'toygres', postgres_version: '18', storage_size_gb: 1, use_load_balancer: false, dns_label: null, password_ciphertext: 'x' })
    return id
  }
  const id = await make('replayed')
  t.equal(await markRunning(pool, id, info), true)
  t.equal(await markRunning(pool, id, info), true, 'a replay after the commit still says running (so the monitor starts)')
  const { rows } = await pool.query("SELECT count(*)::int AS n FROM toygres.instance_events WHERE instance_id = $1 AND kind = 'state'", [id])
  t.equal(rows[0].n, 2, 'created, then running once: the replay changed nothing')
  t.match((await pool.query('SELECT postgres_version FROM toygres.instances WHERE id = $1', [id])).rows[0], { postgres_version: '17' })
  const overtaken = await make('overtaken')
  await markDeleting(pool, overtaken, crypto.randomUUID())
  t.equal(await markRunning(pool, overtaken, info), false, 'a delete overtook the create')
})
