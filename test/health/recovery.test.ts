// Auto-restart is tried after every check that leaves an instance unhealthy,
// not only after the one that turned it so: a restart that fails (here the
// server's configuration has a bad value while it is down, so PostgreSQL
// refuses to start) is tried again at the next check, and the instance comes
// back once the start can succeed. Also the schedule's arithmetic:
// fixed-rate, missed ticks dropped.
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { nextDue } from '../../src/orchestrations/health-check.ts'
import { localProvisionerEnv } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'
import { buildHealthApp } from './fixtures/app.ts'
import { createRunning, healthOf, pgdataOf, postmasterPid, waitForHealth } from './fixtures/helpers.ts'

t.test('a failed auto-restart is tried again at the next unhealthy check', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildHealthApp(t, env)
  await createRunning(app, 'stubborn')
  await waitForHealth(app, 'stubborn', 'healthy')

  const conf = join(pgdataOf(env.TOYGRES_DATA_DIR!, 'stubborn'), 'postgresql.auto.conf')
  const good = await readFile(conf, 'utf8')
  await appendFile(conf, "shared_buffers = 'plenty'\n") // read at the next start only
  process.kill(await postmasterPid(env.TOYGRES_DATA_DIR!, 'stubborn'), 'SIGKILL')
  // Threshold 2: the second failed check turns it unhealthy and its restart
  // fails; the third is unhealthy again, and so is its restart.
  const sick = await pollUntil(() => healthOf(app, 'stubborn'), h => h.consecutive_failures >= 3, { what: '3 failed checks', timeoutMs: 30_000 })
  t.equal(sick.health, 'unhealthy')
  t.equal(sick.checks.slice(0, 3).filter((c: { ok: boolean }) => c.ok).length, 0, 'every check since the kill failed')

  await writeFile(conf, good)
  const back = await waitForHealth(app, 'stubborn', 'healthy', 30_000)
  t.equal(back.consecutive_failures, 0, 'a later check restarted it')
})

t.test('the schedule: fixed-rate from the due time, missed ticks dropped', async t => {
  t.equal(nextDue(undefined, 10_000, 1000), 11_000, 'the first: one interval after the check')
  t.equal(nextDue(10_000, 10_300, 1000), 11_000, 'fixed-rate: a check that started late does not push the next one')
  t.equal(nextDue(10_000, 14_500, 1000), 15_500, 'behind by several intervals (the control plane was down): the missed ticks are dropped, the next is one interval on')
})
