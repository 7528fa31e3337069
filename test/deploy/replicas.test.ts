// Several replicas, proved: two API processes and two worker processes (the
// roles of deploy/'s Deployments) on one database, with the local
// provisioner and one shared data directory. They boot at once on an empty
// database (migrations serialise on their lock), take creates and deletes
// through both APIs, lose a worker to SIGKILL in the middle of a create,
// and are restarted one by one. Every operation ends once and succeeded,
// health checks keep their schedule while a worker is gone, and nothing is
// left behind.
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PG_MIGRATE_LOCK_ID } from 'node-pg-migrate'
import pg from 'pg'
import t from 'tap'
import { activityNames as steps } from '../../src/activities/names.ts'
import { migrationNames } from '../../src/db/migrate.ts'
import { orchestrationNames as orchestrations } from '../../src/orchestrations/names.ts'
import { localProvisionerEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { fleet, type Replica } from './fleet.ts'
import { gapsIn, summary } from './schedule.ts'

const INTERVAL_S = 1
/**
 * "On schedule" while a worker is gone: a check may wait for the survivor's
 * next poll of due timers (pg-boss, every 2 s) on top of the interval, but
 * never for the dead worker's jobs to expire (heartbeat 10 s, then the
 * supervisor's next pass), which is what a stalled monitor would show.
 */
const ON_SCHEDULE_S = INTERVAL_S + 2 * 2 + 1

t.setTimeout(600_000)

t.test('two API and two worker processes on one database: boot together, share the work, survive a SIGKILL and a rolling restart', { timeout: 580_000 }, async t => {
  const databaseUrl = await createTestDatabase(t)
  const local = await localProvisionerEnv(t)
  const f = fleet(databaseUrl, {
    ...local,
    TOYGRES_SECRET_KEY: randomBytes(32).toString('hex'),
    TOYGRES_HEALTH_INTERVAL_SECONDS: String(INTERVAL_S),
    TOYGRES_HEARTBEAT_SECONDS: '10',
    TOYGRES_SHUTDOWN_GRACE_SECONDS: '5',
    LOG_LEVEL: 'warn'
  })
  const db = new pg.Client({ connectionString: databaseUrl })
  await db.connect()
  t.teardown(async () => { await f.close(); await db.end() })
  const now = async (): Promise<Date> => (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0]!.now
  const figures: Record<string, unknown> = {}
  const operations: Array<{ id: string, what: string }> = []

  const call = async (via: Replica, method: string, path: string, body?: unknown): Promise<{ status: number, json: any }> => {
    const res = await fetch(via.url + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) })
    return { status: res.status, json: await res.json().catch(() => null) }
  }
  const state = (via: Replica, name: string, wanted: string | 404, timeoutMs = 90_000): Promise<unknown> =>
    pollUntil(async () => { const r = await call(via, 'GET', `/instances/${name}`); return r.status === 404 ? 404 : r.json?.state }, s => s === wanted || s === 'failed', { what: `${name} ${wanted} (through ${via.id})`, timeoutMs })
  const create = async (via: Replica, name: string): Promise<void> => {
    const r = await call(via, 'POST', '/instances', { name })
    t.equal(r.status, 202, `create ${name} through ${via.id}`)
    operations.push({ id: r.json.operation.id, what: `create ${name}` })
  }
  const remove = async (via: Replica, name: string): Promise<string> => {
    const r = await call(via, 'DELETE', `/instances/${name}`)
    t.equal(r.status, 202, `delete ${name} through ${via.id}`)
    operations.push({ id: r.json.operation.id, what: `delete ${name}` })
    return r.json.operation.id
  }
  const checkTimes = async (): Promise<Map<string, number[]>> => {
    const { rows } = await db.query<{ name: string, at: Date }>(
      'SELECT i.name, h.checked_at AS at FROM toygres.health_checks h JOIN toygres.instances i ON i.id = h.instance_id ORDER BY h.checked_at')
    const byName = new Map<string, number[]>()
    for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r.at.getTime()])
    return byName
  }

  try {
    // 1. Four replicas start at once on an empty database. Holding the migration lock until all four wait for it makes them race for real.
    await db.query('SELECT pg_advisory_lock($1)', [PG_MIGRATE_LOCK_ID])
    const apis = [await f.start('api'), await f.start('api')]
    const workers = [await f.start('worker'), await f.start('worker')]
    await pollUntil(async () => {
      f.assertAlive()
      return (await db.query<{ n: number }>(
        `SELECT count(DISTINCT application_name)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND application_name LIKE 'toygres-%'`)).rows[0]!.n
    }, n => n === 4, { what: 'all four replicas waiting for the migration lock', timeoutMs: 60_000 })
    const released = Date.now()
    await db.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATE_LOCK_ID])
    await Promise.all(f.all.map(r => f.ready(r)))
    figures.boot_after_lock_ms = Date.now() - released
    const applied = await db.query<{ name: string, n: number }>('SELECT name, count(*)::int AS n FROM toygres.migrations GROUP BY name ORDER BY name')
    t.same(applied.rows, migrationNames().map(name => ({ name, n: 1 })), 'every migration applied once')
    for (const table of ['control_plane', 'certificate_authority']) {
      t.equal((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM toygres.${table}`)).rows[0]!.n, 1, `one ${table} row: every replica agrees`)
    }

    // 2. Creates and deletes through both APIs; each read back through the other.
    const stable = ['app-0', 'app-1', 'app-2', 'app-3']
    let t0 = Date.now()
    for (const [i, name] of stable.entries()) await create(apis[i % 2]!, name)
    for (const [i, name] of stable.entries()) t.equal(await state(apis[(i + 1) % 2]!, name, 'running'), 'running', `${name} runs`)
    figures.four_creates_to_running_ms = Date.now() - t0
    const [ca0, ca1] = [await call(apis[0]!, 'GET', '/instances/app-0/ca-certificate'), await call(apis[1]!, 'GET', '/instances/app-0/ca-certificate')]
    t.same(ca0, ca1, 'both APIs serve the same CA')
    await create(apis[0]!, 'tmp-0')
    await create(apis[1]!, 'tmp-1')
    await state(apis[1]!, 'tmp-0', 'running')
    await state(apis[0]!, 'tmp-1', 'running')
    t0 = Date.now()
    // Both APIs at once (a local delete can end before a second request made afterwards arrives, and that one is then a 404):
    // the row lock orders them, and the second answers with the delete the first started.
    const [deleting, again] = await Promise.all([remove(apis[1]!, 'tmp-0'), call(apis[0]!, 'DELETE', '/instances/tmp-0')])
    t.equal(again.json.operation?.id, deleting, 'the same delete through the other API is the same operation')
    await remove(apis[0]!, 'tmp-1')
    t.equal(await state(apis[0]!, 'tmp-0', 404), 404)
    t.equal(await state(apis[1]!, 'tmp-1', 404), 404)
    figures.two_deletes_to_404_ms = Date.now() - t0

    // 3. A worker dies in the middle of a create. Both workers are frozen while the create is asked for and a row lock is
    //    taken that its start-health-check step needs; then only the victim runs, so the create is its own, and it cannot end.
    const [victim, survivor] = workers as [Replica, Replica]
    for (const w of workers) w.process.child.kill('SIGSTOP')
    await create(apis[1]!, 'crash-db')
    const createOp = operations.at(-1)!.id
    const lock = new pg.Client({ connectionString: databaseUrl })
    await lock.connect()
    await lock.query('BEGIN')
    const { rows: [crash] } = await lock.query<{ id: string }>("SELECT id FROM toygres.instances WHERE name = 'crash-db' FOR KEY SHARE")
    victim.process.child.kill('SIGCONT')
    await pollUntil(async () => (await db.query('SELECT name FROM toygres.operation_steps WHERE operation_id = $1 AND status = $2', [createOp, 'succeeded'])).rows.map(r => r.name),
      (done: string[]) => done.includes(steps.MARK_RUNNING), { what: 'the victim\'s create reaching mark-running', timeoutMs: 60_000 })
    const pidFile = join(local.TOYGRES_DATA_DIR!, 'instances', 'toygres', 'crash-db', 'pgdata', 'postmaster.pid')
    const postmaster = (await readFile(pidFile, 'utf8')).split('\n')[0]
    // Frozen, then killed: the health checks running at that moment are known (they wait for their lease to lapse).
    victim.process.child.kill('SIGSTOP')
    const { rows: held } = await db.query<{ name: string }>(
      `SELECT DISTINCT i.name FROM toygres.operations o JOIN toygres.instances i ON i.id = (o.input->>'instance_id')::uuid
       WHERE o.name = $1 AND o.status = 'running' AND o.lease IS NOT NULL`, [orchestrations.HEALTH_CHECK])
    const killedAt = await now()
    await f.kill(victim)
    await lock.query('ROLLBACK')
    await lock.end()
    survivor.process.child.kill('SIGCONT')
    const finished: any = await pollUntil(async () => (await call(apis[0]!, 'GET', `/operations/${createOp}`)).json, op => !['pending', 'running'].includes(op.status), { what: 'the create, taken over', timeoutMs: 120_000 })
    const recoveredAt = await now()
    figures.takeover_ms = recoveredAt.getTime() - killedAt.getTime()
    t.equal(finished.status, 'succeeded', `the create the victim was running succeeded on the survivor: ${JSON.stringify(finished.error)}`)
    t.same(finished.steps.map((s: { name: string }) => s.name), [...new Set(finished.steps.map((s: { name: string }) => s.name))], 'each step once in its timeline')
    t.equal((await readFile(pidFile, 'utf8')).split('\n')[0], postmaster, 'the server the victim started is the one that runs: not started twice')
    const { rows: transitions } = await db.query('SELECT from_value, to_value FROM toygres.instance_events WHERE instance_id = $1 AND kind = $2 ORDER BY id', [crash!.id, 'state'])
    t.same(transitions, [{ from_value: null, to_value: 'creating' }, { from_value: 'creating', to_value: 'running' }], 'created once, running once')
    await pollUntil(async () => (await db.query('SELECT count(*)::int AS n FROM toygres.health_checks WHERE instance_id = $1', [crash!.id])).rows[0].n, n => n > 0, { what: 'crash-db checked', timeoutMs: 30_000 })

    // While one worker was gone, the survivor kept every other instance on schedule.
    const gone = gapsIn(await checkTimes(), stable, killedAt.getTime(), recoveredAt.getTime())
    const excluded = held.map(h => h.name)
    const measured = [...gone.entries()].filter(([name]) => !excluded.includes(name))
    figures.worker_gone = { window_s: (recoveredAt.getTime() - killedAt.getTime()) / 1000, gaps_s: summary(measured.flatMap(([, g]) => g)), mid_check_on_victim: excluded }
    t.ok(measured.length >= 2, `instances measured: ${measured.map(([n]) => n).join(', ')} (mid-check when the victim died: ${excluded.join(', ') || 'none'})`)
    for (const [name, gaps] of measured) {
      t.ok(gaps.length >= Math.floor(((recoveredAt.getTime() - killedAt.getTime()) / 1000) / INTERVAL_S / 2), `${name}: ${gaps.length} checks while a worker was gone`)
      t.ok(Math.max(...gaps) <= ON_SCHEDULE_S, `${name}: longest gap ${Math.max(...gaps).toFixed(2)} s ≤ ${ON_SCHEDULE_S} s`)
    }

    // The monitors that were mid-check on the victim resume once its jobs' heartbeat lapses, before anything else goes on.
    const resumed = await pollUntil(async () => (await db.query<{ name: string, at: Date }>(
      'SELECT i.name, max(h.checked_at) AS at FROM toygres.health_checks h JOIN toygres.instances i ON i.id = h.instance_id WHERE i.name = ANY($1) GROUP BY i.name', [excluded])).rows,
    rows => rows.length === excluded.length && rows.every(r => r.at.getTime() > killedAt.getTime()), { what: 'the victim\'s monitors checking again', timeoutMs: 90_000 })
    const afterKill = await checkTimes()
    figures.held_by_victim_longest_gap_s = Object.fromEntries(excluded.map(n => [n, Math.max(...gapsIn(afterKill, [n], killedAt.getTime(), resumed.find(r => r.name === n)!.at.getTime()).get(n)!)]))

    // 4. A rolling restart of all four, one by one, as a Deployment does it (maxSurge 1, maxUnavailable 0):
    //    the new replica is ready before the old one gets SIGTERM. Creates go on meanwhile.
    const replacement = await f.start('worker')
    await f.ready(replacement)
    workers.splice(0, 2, survivor, replacement)
    const rollFrom = await now()
    for (const [i, old] of [...apis, ...workers].entries()) {
      const pool = old.role === 'api' ? apis : workers
      await create(apis.find(a => a !== old)!, `roll-${i}`)
      const fresh = await f.start(old.role)
      await f.ready(fresh)
      t.equal(await f.stop(old), 0, `${old.id} stopped cleanly on SIGTERM`)
      pool.splice(pool.indexOf(old), 1, fresh)
    }
    const rollTo = await now()
    figures.rolling_restart_s = (rollTo.getTime() - rollFrom.getTime()) / 1000
    const rolling = gapsIn(await checkTimes(), stable, rollFrom.getTime(), rollTo.getTime())
    figures.rolling = { gaps_s: summary([...rolling.values()].flat()) }
    for (const [name, gaps] of rolling) t.ok(Math.max(...gaps) <= ON_SCHEDULE_S, `${name}: longest gap through the rolling restart ${Math.max(...gaps).toFixed(2)} s ≤ ${ON_SCHEDULE_S} s`)
    for (const i of [0, 1, 2, 3]) t.equal(await state(apis[i % 2]!, `roll-${i}`, 'running'), 'running', `roll-${i} runs`)
    const live = f.all.filter(r => r.process.child.exitCode === null && r.process.child.signalCode === null)
    figures.rss_mib = Object.fromEntries(live.map(r => [r.id, f.rssMiB(r)]))
    figures.cpu_cores_avg = Object.fromEntries(live.map(r => [r.id, Math.round(f.cpuSeconds(r) / ((Date.now() - r.startedAt) / 1000) * 1000) / 1000]))

    // 5. Everything deleted through both APIs; then nothing is left anywhere.
    const names = [...stable, 'crash-db', 'roll-0', 'roll-1', 'roll-2', 'roll-3']
    for (const [i, name] of names.entries()) await remove(apis[i % 2]!, name)
    for (const [i, name] of names.entries()) t.equal(await state(apis[(i + 1) % 2]!, name, 404), 404, `${name} gone`)
    const { rows: ends } = await db.query<{ id: string, status: string }>('SELECT id, status FROM toygres.operations WHERE id = ANY($1)', [operations.map(o => o.id)])
    const statusOf = new Map(ends.map(r => [r.id, r.status]))
    t.same(operations.filter(o => statusOf.get(o.id) !== 'succeeded').map(o => `${o.what}: ${statusOf.get(o.id)}`), [], `all ${new Set(operations.map(o => o.id)).size} operations succeeded`)
    // A monitor mid-check when its instance went ends after that check (it then finds the instance gone): in bounded time, not at once.
    const unfinished = await pollUntil(async () => (await db.query("SELECT name, status FROM toygres.operations WHERE status IN ('pending', 'running')")).rows, rows => rows.length === 0,
      { what: 'every operation to end', timeoutMs: 30_000 }).catch((err: Error) => err.message)
    t.same(unfinished, [], 'no operation is left running (monitors included)')
    // A cancelled monitor's timer job may still be due (it then finds its operation ended): it drains, it is not left.
    const jobs = await pollUntil(async () => (await db.query(
      "SELECT name, state, start_after FROM pgboss.job WHERE name LIKE 'toygres%' AND state IN ('created', 'retry', 'active')")).rows, rows => rows.length === 0,
    { what: 'jobs to drain', timeoutMs: 30_000 }).catch((err: Error) => err.message)
    t.same(jobs, [], 'no job is left waiting')
    t.same((await db.query('SELECT name FROM toygres.instances')).rows, [], 'no instance row')
    const dir = local.TOYGRES_DATA_DIR!
    t.same(await readdir(join(dir, 'instances', 'toygres')).catch(() => []), [], 'no instance directory')
    t.same(await readdir(join(dir, 'ports')).catch(() => []), [], 'no port reservation')
    t.same(await serversUnder(dir), [], 'no PostgreSQL server of an instance runs')
    t.comment(`figures: ${JSON.stringify(figures)}`)
  } catch (err) {
    t.comment(f.outputs())
    throw err
  }
})

/** Command lines of live processes that mention `dir` (an instance's postmaster has -D under it). */
async function serversUnder (dir: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of (await readdir('/proc')).filter(p => /^\d+$/.test(p))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmd.includes(dir) && cmd.includes('postgres')) found.push(cmd.replaceAll('\0', ' '))
  }
  return found
}
