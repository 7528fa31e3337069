// The verdict rules and the probe, against a real database (no instances
// running): unknown until the first success or N failures in a row, a
// recovery flips it back, every change is an instance event, history is
// pruned past the retention, and a probe never throws for a failed check.
import { createServer } from 'node:net'
import t from 'tap'
import { pino } from 'pino'
import { migrate } from '../../src/db/migrate.ts'
import { checkHealth } from '../../src/activities/check-health.ts'
import { listHealthChecks, markStale, pruneHealthChecks, recordCheck, type HealthCheckOutcome } from '../../src/db/health-checks.ts'
import { listInstanceEvents } from '../../src/db/instance-events.ts'
import { insertInstance, markDeleting, markRunning } from '../../src/db/instances.ts'
import { adminUrl, createTestDatabase, testPool } from '../helpers/db.ts'

// One response time for all: back-to-back records of overlapping checks would sort by when each started.
const check = (ok: boolean): HealthCheckOutcome => ({ ok, response_time_ms: 1.5, error: ok ? null : 'refused' })
const verdict = (v: Awaited<ReturnType<typeof recordCheck>>) => v && { previous: v.previous, current: v.current, consecutive_failures: v.consecutive_failures }

t.test('verdict: threshold, recovery, events, retention, only while running', async t => {
  const url = await createTestDatabase(t)
  await migrate(url, pino({ level: 'silent' }))
  const pool = testPool(t, url)
  const id = crypto.randomUUID()
  await insertInstance(pool, { id, name: 'v', namespace: 'toygres', postgres_version: '18', storage_size_gb: 1, use_load_balancer: false, dns_label: null, password_ciphertext: 'x' })

  t.equal(await recordCheck(pool, id, check(true), 3, 24), null, 'nothing recorded while creating')
  await markRunning(pool, id, { ip_connection_string: 'postgresql://postgres@127.0.0.1:1/postgres', dns_connection_string: null, external_ip: null, dns_name: null, server_version: 'x', deployment_time_seconds: 1 })

  t.same(verdict(await recordCheck(pool, id, check(false), 3, 24)), { previous: 'unknown', current: 'unknown', consecutive_failures: 1 }, 'below the threshold: still unknown')
  t.same(verdict(await recordCheck(pool, id, check(true), 3, 24)), { previous: 'unknown', current: 'healthy', consecutive_failures: 0 })
  t.same(verdict(await recordCheck(pool, id, check(false), 3, 24)), { previous: 'healthy', current: 'healthy', consecutive_failures: 1 }, 'one failure does not flip it')
  t.same(verdict(await recordCheck(pool, id, check(false), 3, 24)), { previous: 'healthy', current: 'healthy', consecutive_failures: 2 })
  t.same(verdict(await recordCheck(pool, id, check(false), 3, 24)), { previous: 'healthy', current: 'unhealthy', consecutive_failures: 3 })
  t.same(verdict(await recordCheck(pool, id, check(false), 3, 24)), { previous: 'unhealthy', current: 'unhealthy', consecutive_failures: 4 })
  t.same(verdict(await recordCheck(pool, id, check(true), 3, 24)), { previous: 'unhealthy', current: 'healthy', consecutive_failures: 0 }, 'a recovery flips it back')

  const health = (await listInstanceEvents(pool, id)).filter(e => e.kind === 'health').map(e => `${e.from_value}→${e.to_value}`).reverse()
  t.same(health, ['unknown→healthy', 'healthy→unhealthy', 'unhealthy→healthy'], 'each change once in the event history')

  const checks = await listHealthChecks(pool, id, 500)
  t.equal(checks.length, 7)
  t.same(checks.map(c => c.ok), [true, false, false, false, false, true, false], 'newest first')
  const row = (await pool.query('SELECT last_response_time_ms, last_health_check_at, now() AS db_now FROM toygres.instances WHERE id = $1', [id])).rows[0]
  t.equal(row.last_response_time_ms, 1.5)
  // The time of a check is the database's: now, less the response time (never the app's clock).
  const last = await recordCheck(pool, id, { ok: true, response_time_ms: 2000, error: null }, 3, 24)
  const { rows: [clock] } = await pool.query<{ now: Date }>('SELECT clock_timestamp() AS now')
  const age = clock!.now.getTime() - last!.checked_at.getTime()
  t.ok(age >= 2000 && age < 3000, `checked_at is the database's clock less the response time (${age} ms ago)`)

  // Retention: a check older than the window goes with the next record, and globally.
  await pool.query("INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms) VALUES ($1, now() - interval '3 hours', true, 1)", [id])
  t.equal((await listHealthChecks(pool, id, 500)).length, 9)
  await recordCheck(pool, id, check(true), 3, 2)
  t.equal((await listHealthChecks(pool, id, 500)).length, 9, 'the 3 h old check was pruned with a 2 h retention')
  await pool.query("UPDATE toygres.health_checks SET checked_at = checked_at - interval '30 hours' WHERE ok = false")
  t.equal(await pruneHealthChecks(pool, 24), 5)

  // No check for a while (checks not running): the verdict becomes unknown, once.
  t.equal(await markStale(pool, 3600), 0, 'a recent check keeps the verdict')
  await pool.query("UPDATE toygres.instances SET last_health_check_at = now() - interval '2 hours' WHERE id = $1", [id])
  // ...but not while its monitor's run holds a live lease (busy, e.g. restarting a dead server): the verdict it reached stands.
  const monitor = crypto.randomUUID()
  await pool.query("INSERT INTO toygres.operations (id, name, key, status, lease, lease_until) VALUES ($1, 'monitor', $2, 'running', gen_random_uuid(), now() + interval '10 seconds')", [monitor, `monitor:${monitor}`])
  await pool.query('UPDATE toygres.instances SET health_operation_id = $2 WHERE id = $1', [id, monitor])
  t.equal(await markStale(pool, 3600), 0, 'a monitor whose run is under way keeps the verdict')
  await pool.query("UPDATE toygres.operations SET lease_until = now() - interval '1 second' WHERE id = $1", [monitor])
  t.equal(await markStale(pool, 3600), 1, 'its lease lapsed (the run died): stale')
  t.equal(await markStale(pool, 3600), 0)
  t.equal((await pool.query('SELECT health FROM toygres.instances WHERE id = $1', [id])).rows[0].health, 'unknown')

  await markDeleting(pool, id, crypto.randomUUID())
  t.equal(await recordCheck(pool, id, check(false), 3, 24), null, 'nothing recorded once deleting')
  await pool.query('DELETE FROM toygres.instances WHERE id = $1', [id])
  t.equal((await pool.query('SELECT count(*)::int AS n FROM toygres.health_checks')).rows[0].n, 0, 'history goes with the instance')
})

t.test('check-health: ok against a live server, a result (not an exception) otherwise', async t => {
  const admin = new URL(adminUrl())
  const live = await checkHealth({ connection_string: `postgresql://${admin.username || 'postgres'}@${admin.hostname}:${admin.port || 5432}/postgres`, password: decodeURIComponent(admin.password), ca_pem: null, timeout_ms: 5000 }, new AbortController().signal)
  t.equal(live.ok, true, live.error ?? '')
  t.equal(live.error, null)
  t.ok(live.response_time_ms > 0)

  const refused = await checkHealth({ connection_string: 'postgresql://postgres@127.0.0.1:1/postgres', password: 'secret-pw', ca_pem: null, timeout_ms: 2000 }, new AbortController().signal)
  t.equal(refused.ok, false)
  t.match(refused.error, /ECONNREFUSED/)

  // A server that accepts and never answers: the deadline ends the probe.
  const silent = createServer(() => {})
  await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => silent.close())
  const port = (silent.address() as { port: number }).port
  const hung = await checkHealth({ connection_string: `postgresql://postgres@127.0.0.1:${port}/postgres`, password: 'secret-pw', ca_pem: null, timeout_ms: 300 }, new AbortController().signal)
  t.equal(hung.ok, false)
  t.match(hung.error, /within 300 ms/)
  t.notMatch(hung.error, /secret-pw/)
})
