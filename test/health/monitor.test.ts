// End to end with the local provisioner, through HTTP: a killed server
// becomes unhealthy within threshold × interval and auto-restart brings it
// back; delete stops monitoring and takes the history along; /metrics is
// valid Prometheus text whose counters move.
import t from 'tap'
import { isAlive } from '../../src/provisioners/local/server.ts'
import { localProvisionerEnv } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'
import { buildHealthApp } from './fixtures/app.ts'
import { createRunning, healthOf, liveMonitors, postmasterPid, waitForHealth } from './fixtures/helpers.ts'
import { parseExposition, sample } from './fixtures/prometheus.ts'
import { activityNames as steps } from '../../src/activities/names.ts'
import { CHECKS_PER_GENERATION } from '../../src/plugins/app/orchestrations.ts'

t.test('kill → unhealthy → auto-restart → healthy; delete stops it; metrics move', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildHealthApp(t, env)
  const before = parseExposition((await app.inject('/metrics')).body)

  const { id } = await createRunning(app, 'watched')
  const healthy = await waitForHealth(app, 'watched', 'healthy')
  t.equal(healthy.state, 'running')
  t.ok(healthy.checks.length >= 1 && healthy.checks[0].ok, 'a successful check is recorded')
  t.type(healthy.last_response_time_ms, 'number')
  // GET /instances/{name} is micro-cached for pollers: it catches up within moments.
  const instance = await pollUntil(async () => (await app.inject('/instances/watched')).json(), i => i.health === 'healthy', { what: 'GET shows healthy', timeoutMs: 10_000 })
  t.equal(instance.health, 'healthy', 'GET /instances/{name} shows the verdict')
  t.ok(instance.last_health_check_at)
  const monitors = await liveMonitors(app, id)
  t.equal(monitors.length, 1, 'one live monitor')

  // The server dies (SIGKILL: no shutdown). Threshold 2 × interval 1 s.
  const pid = await postmasterPid(env.TOYGRES_DATA_DIR!, 'watched')
  process.kill(pid, 'SIGKILL')
  const sick = await waitForHealth(app, 'watched', 'unhealthy', 30_000)
  t.ok(sick.consecutive_failures >= 2)
  t.equal(sick.checks[0].ok, false)
  t.match(sick.checks[0].error, /ECONNREFUSED|terminat|shut|closed|within/i)

  // Auto-restart: a new server on the same data, and the verdict recovers.
  const back = await waitForHealth(app, 'watched', 'healthy', 60_000)
  t.equal(back.consecutive_failures, 0)
  const newPid = await postmasterPid(env.TOYGRES_DATA_DIR!, 'watched')
  t.not(newPid, pid, 'a new postmaster')
  t.ok(isAlive(newPid))
  const events = (await app.db.query("SELECT from_value || '→' || to_value AS e FROM toygres.instance_events WHERE instance_id = $1 AND kind = 'health' ORDER BY id", [id])).rows.map(r => r.e)
  t.same(events.slice(0, 3), ['unknown→healthy', 'healthy→unhealthy', 'unhealthy→healthy'], 'each health change once in the event history')
  t.same(await liveMonitors(app, id), monitors, 'still the same single monitor (continueAsNew keeps its id)')
  const stepCount = (await app.db.query('SELECT count(*)::int AS n FROM toygres.operation_steps WHERE operation_id = $1', [monitors[0]])).rows[0].n
  t.ok(stepCount <= 4 * CHECKS_PER_GENERATION, `bounded history: ${stepCount} steps`)

  const metrics = parseExposition((await app.inject('/metrics')).body)
  t.ok(sample(metrics, 'toygres_operations_started_total', { orchestration: 'toygres-orchestrations::orchestration::create-instance' }) >= 1)
  t.ok(sample(metrics, 'toygres_operations_finished_total', { orchestration: 'toygres-orchestrations::orchestration::create-instance', outcome: 'succeeded' }) >= 1)
  t.ok(sample(metrics, 'toygres_health_check_duration_seconds_count', { outcome: 'ok' }) >= 2)
  t.ok(sample(metrics, 'toygres_health_check_duration_seconds_count', { outcome: 'failed' }) >= 2)
  t.ok(sample(metrics, 'toygres_step_duration_seconds_count', { step: steps.RECORD_HEALTH, outcome: 'succeeded' }) >= 3)
  t.ok(sample(metrics, 'toygres_step_duration_seconds_count', { step: steps.RESTART_INSTANCE, outcome: 'succeeded' }) >= 1)
  t.equal(sample(metrics, 'toygres_instances', { state: 'running', health: 'healthy' }), 1)
  const lateness = sample(metrics, 'toygres_health_check_lateness_seconds_count', {})
  const { rows: [due] } = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM toygres.health_checks WHERE instance_id = $1 AND due_at IS NOT NULL', [id])
  // Read after the scrape: a check may land in between.
  t.ok(lateness >= 2 && lateness <= due!.n, `checks with a due time are observed for lateness (${lateness}) and keep it (${due!.n})`)
  const live = ['pending', 'due', 'waiting', 'running'].reduce((n, state) => n + sample(metrics, 'toygres_operations', { orchestration: 'toygres-orchestrations::orchestration::health-check', state }), 0)
  t.equal(live, 1, 'the live monitor is counted in exactly one state')
  const polls = sample(metrics, 'toygres_http_request_duration_seconds_count', { method: 'GET', route: '/instances/:name/health', status_code: '200' })
  t.ok(polls > sample(before, 'toygres_http_request_duration_seconds_count', { method: 'GET', route: '/instances/:name/health', status_code: '200' }), 'the HTTP histogram moved, by route template')
  t.ok([...metrics.keys()].every(k => !k.includes('route="/instances/watched')), 'no raw URLs as labels')

  // Both routes are in the OpenAPI document, /metrics as text/plain.
  const spec = app.swagger() as unknown as { paths: Record<string, Record<string, { operationId: string, responses: Record<string, { content?: Record<string, unknown> }> }>> }
  t.equal(spec.paths['/instances/{name}/health']?.get?.operationId, 'getInstanceHealth')
  t.equal(spec.paths['/metrics']?.get?.operationId, 'getMetrics')
  t.ok(spec.paths['/metrics']?.get?.responses['200']?.content?.['text/plain'], '/metrics documented as text/plain')

  // Delete: the monitor is cancelled and the history goes with the instance.
  t.equal((await app.inject({ method: 'DELETE', url: '/instances/watched' })).statusCode, 202)
  await pollUntil(async () => (await app.inject('/instances/watched')).statusCode, s => s === 404, { what: 'deleted', timeoutMs: 60_000 })
  const op = (await app.db.query('SELECT status FROM toygres.operations WHERE id = $1', [monitors[0]])).rows[0]
  t.equal(op.status, 'cancelled', 'the monitor was cancelled')
  t.same(await liveMonitors(app, id), [], 'no live monitor left')
  t.equal((await app.db.query('SELECT count(*)::int AS n FROM toygres.health_checks WHERE instance_id = $1', [id])).rows[0].n, 0, 'no health history left')
  t.equal((await app.inject('/instances/watched/health')).statusCode, 404)
  t.equal((await healthOf(app, 'watched')).type, 'https://toygres.dev/problems/not-found')
})
