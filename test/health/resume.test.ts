// Monitoring survives the control plane: after a restart on the same
// database and data directory the same monitor resumes (no duplicate); a
// monitor that was lost is replaced by the reconciler; with auto-restart off
// a dead server stays unhealthy until someone starts it.
import t from 'tap'
import { orchestrationNames as orchestrations } from '../../src/orchestrations/names.ts'
import { CHECKS_PER_GENERATION } from '../../src/plugins/app/orchestrations.ts'
import { localProvisionerEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { buildHealthApp } from './fixtures/app.ts'
import { createRunning, healthOf, liveMonitors, postmasterPid, waitForHealth } from './fixtures/helpers.ts'

const lastCheck = async (app: Awaited<ReturnType<typeof buildHealthApp>>, name: string): Promise<number> =>
  Date.parse((await healthOf(app, name)).last_health_check_at ?? 0)

t.test('restart of the control plane: monitoring resumes, exactly one monitor; a lost one is replaced', async t => {
  const env = await localProvisionerEnv(t)
  const url = await createTestDatabase(t)
  const first = await buildHealthApp(t, env, url)
  const { id } = await createRunning(first, 'steady')
  await waitForHealth(first, 'steady', 'healthy')
  const [monitor] = await liveMonitors(first, id)
  t.ok(monitor)
  await first.close()

  const closedAt = Date.now()
  const second = await buildHealthApp(t, env, url)
  await pollUntil(() => lastCheck(second, 'steady'), at => at > closedAt, { what: 'a check after the restart', timeoutMs: 30_000 })
  // A few more intervals: still one, the same one.
  const resumedAt = await lastCheck(second, 'steady')
  await pollUntil(() => lastCheck(second, 'steady'), at => at > resumedAt + 2000, { what: 'checks going on', timeoutMs: 30_000 })
  t.same(await liveMonitors(second, id), [monitor], 'the same single monitor resumed')
  // It continues as new (same id, fresh history) every few checks: history stays bounded.
  const renewed = await pollUntil(async () => (await second.db.query('SELECT generation FROM toygres.operations WHERE id = $1', [monitor])).rows[0].generation,
    g => g >= 1, { what: 'a continueAsNew', timeoutMs: 60_000 })
  t.ok(renewed >= 1)
  const history = (await second.db.query('SELECT count(*)::int AS n FROM toygres.operation_steps WHERE operation_id = $1', [monitor])).rows[0].n
  t.ok(history <= 4 * CHECKS_PER_GENERATION, `bounded history: ${history} steps`)
  const all = (await second.db.query('SELECT count(*)::int AS n FROM toygres.operations WHERE name = $1', [orchestrations.HEALTH_CHECK])).rows[0].n
  t.equal(all, 1, 'no second monitor was ever started')
  t.equal((await healthOf(second, 'steady')).health, 'healthy')

  // The instance loses track of its monitor: the reconciler adopts the live one, it does not add one.
  await second.db.query('UPDATE toygres.instances SET health_operation_id = NULL WHERE id = $1', [id])
  await pollUntil(async () => (await second.db.query('SELECT health_operation_id FROM toygres.instances WHERE id = $1', [id])).rows[0].health_operation_id,
    op => op === monitor, { what: 'the monitor adopted again', timeoutMs: 30_000 })
  t.same(await liveMonitors(second, id), [monitor], 'still the one monitor')

  // The monitor dies (ended behind our back). The reconciler, every interval, replaces it.
  await second.engine.cancel(monitor!, { reason: 'test: a monitor that died' })
  await second.engine.waitFor(monitor!, { timeoutMs: 30_000 })
  const replaced = await pollUntil(() => liveMonitors(second, id), ids => ids.length === 1 && ids[0] !== monitor, { what: 'a replacement monitor', timeoutMs: 30_000 })
  const row = (await second.db.query('SELECT health_operation_id FROM toygres.instances WHERE id = $1', [id])).rows[0]
  t.equal(row.health_operation_id, replaced[0], 'the instance records its new monitor')
  const replacedAt = Date.now()
  await pollUntil(() => lastCheck(second, 'steady'), at => at > replacedAt, { what: 'checks by the replacement', timeoutMs: 30_000 })
  t.same(await liveMonitors(second, id), replaced, 'still exactly one')

  // Starting again (a create's replayed step, a racing reconciler) never adds one.
  const again = await Promise.all([second.monitors.start(id), second.monitors.start(id), second.monitors.start(id)])
  t.same(again, [replaced[0], replaced[0], replaced[0]])
  t.same(await liveMonitors(second, id), replaced)

  t.equal((await second.inject({ method: 'DELETE', url: '/instances/steady' })).statusCode, 202)
  await pollUntil(async () => (await second.inject('/instances/steady')).statusCode, s => s === 404, { what: 'deleted', timeoutMs: 60_000 })
  t.same(await liveMonitors(second, id), [])
})

t.test('auto-restart off: a dead server stays unhealthy until it is started', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildHealthApp(t, { ...env, TOYGRES_HEALTH_AUTO_RESTART: 'false' })
  const { id } = await createRunning(app, 'fragile')
  await waitForHealth(app, 'fragile', 'healthy')
  const pid = await postmasterPid(env.TOYGRES_DATA_DIR!, 'fragile')
  process.kill(pid, 'SIGKILL')
  await waitForHealth(app, 'fragile', 'unhealthy', 30_000)
  // Several more failed checks: nobody restarts it.
  const still = await pollUntil(() => healthOf(app, 'fragile'), h => h.consecutive_failures >= 5, { what: '5 failures', timeoutMs: 30_000 })
  t.equal(still.health, 'unhealthy')
  t.ok(still.checks.findIndex((c: { ok: boolean }) => c.ok) >= 5, 'every check since the kill failed')
  const [monitor] = await liveMonitors(app, id)
  const restarts = (await app.db.query("SELECT count(*)::int AS n FROM toygres.operation_steps WHERE operation_id = $1 AND name LIKE '%restart-instance'", [monitor])).rows[0].n
  t.equal(restarts, 0, 'no restart step')

  // The operator starts it: the next check sees it healthy.
  t.equal(await app.provisioner.recoverPostgres({ namespace: 'toygres', instance_name: 'fragile', instance_id: id }, { signal: new AbortController().signal, progress () {} }), true)
  const back = await waitForHealth(app, 'fragile', 'healthy', 30_000)
  t.equal(back.consecutive_failures, 0)
})
