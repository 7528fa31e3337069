// GET /instances/{name} answers from a micro-cache. A poll must never show
// an old state for long after the engine changed it, in any process: here
// the API process (no workers) caches for ten seconds (the most it allows), and another process
// (the worker) creates the instance, marks it running and records health
// verdicts, then stops it. Each change must reach the API's answers within seconds, far
// inside the cache's minute.
import t from 'tap'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'

t.test('the engine\'s writes in another process reach a cached GET', async t => {
  const databaseUrl = await createTestDatabase(t)
  const env = { ...await localProvisionerEnv(t), TOYGRES_HEALTH_INTERVAL_SECONDS: '1', TOYGRES_HEALTH_FAILURE_THRESHOLD: '1', TOYGRES_HEALTH_AUTO_RESTART: 'false' }
  const worker = await buildTestApp(t, { ...env, TOYGRES_WORKER_CONCURRENCY: '2' }, { databaseUrl })
  const api = await buildTestApp(t, { ...env, TOYGRES_STATUS_CACHE_MS: '10000' }, { databaseUrl })

  const created = await api.inject({ method: 'POST', url: '/instances', payload: { name: 'cached', use_load_balancer: false } })
  t.equal(created.statusCode, 202)
  const first = (await api.inject('/instances/cached')).json()
  t.equal(first.state, 'creating', 'cached while creating')

  const op = await worker.engine.waitFor(created.json().operation.id, { timeoutMs: 120_000 })
  t.equal(op.status, 'succeeded')
  const running = await pollUntil(async () => (await api.inject('/instances/cached')).json(), i => i.state === 'running', { what: 'the API to show running', timeoutMs: 4000 })
  t.equal(running.operation.status, 'succeeded', 'and the operation\'s end with it')

  const healthy = await pollUntil(async () => (await api.inject('/instances/cached')).json(), i => i.health === 'healthy', { what: 'the API to show healthy', timeoutMs: 5000 })
  t.equal(healthy.health, 'healthy')
  // The stop route writes `stopping` (and drops its own entry); the worker writes `stopped` and the health that goes with it.
  const stop = await api.inject({ method: 'POST', url: '/instances/cached/stop' })
  t.equal(stop.statusCode, 202)
  const stopped = await pollUntil(async () => (await api.inject('/instances/cached')).json(), i => i.state === 'stopped', { what: 'the API to show stopped', timeoutMs: 8000 })
  t.equal(stopped.health, 'stopped')
})
