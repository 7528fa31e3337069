// One clock, the database's: a worker whose clock is off by seconds, in
// either direction, sleeps as long as it was asked, by the database's
// clock, and its durable timers do not spin (pg-boss releases a job by the
// database's now(); a wake-up time taken from a clock that is behind would
// be due at once and re-armed at once, over and over).
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { orchestration, queueName } from '../../src/engine/index.ts'
import { engineDatabase } from './helpers.ts'
import { until } from './fixtures/setup.ts'

const WORKER = fileURLToPath(new URL('./fixtures/sleeper-worker.ts', import.meta.url))
const SKEW = fileURLToPath(new URL('../helpers/skewed-clock.ts', import.meta.url))
const NAPS_MS = 3 * 1500

for (const skewMs of [-3000, 3000]) {
  t.test(`a worker whose clock is ${Math.abs(skewMs) / 1000} s ${skewMs < 0 ? 'behind' : 'ahead of'} the database's`, async t => {
    const db = await engineDatabase(t)
    const api = await db.stack({ concurrency: 0 })
    const child = spawn(process.execPath, ['--import', SKEW, WORKER], {
      env: { ...process.env, ENGINE_TEST_DB_URL: db.url, TOYGRES_TEST_CLOCK_SKEW_MS: String(skewMs) }, stdio: ['ignore', 'pipe', 'inherit']
    })
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    await until(async () => out, o => o.includes('ready'), 'worker ready')
    const workerNow = Number(/ready (\d+)/.exec(out)![1])
    t.ok(Math.abs(workerNow - Date.now() - skewMs) < 1000, 'the worker\'s clock is skewed as asked')

    const { operation } = await api.engine.start(orchestration('test::three-naps'), {}, { key: `skew${skewMs}` })
    const done = await api.engine.waitFor(operation.id, { timeoutMs: 60_000 })
    t.equal(done.status, 'succeeded')
    const { rows: [times] } = await api.pool.query<{ ms: number }>(
      'SELECT extract(epoch FROM finished_at - started_at) * 1000 AS ms FROM toygres.operations WHERE id = $1', [operation.id])
    // By the database's clock: not shorter than asked (a clock behind would wake early), not later by the skew (a clock ahead).
    t.ok(times!.ms >= NAPS_MS - 50, `slept at least ${NAPS_MS} ms by the database's clock (${Math.round(times!.ms)} ms)`)
    t.ok(times!.ms < NAPS_MS + Math.abs(skewMs) / 2, `and not late by the skew (${Math.round(times!.ms)} ms)`)
    const { rows: [jobs] } = await api.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1', [queueName('test::three-naps')])
    t.ok(jobs!.n <= 6, `one job per run, no spinning (${jobs!.n} jobs for 1 start + 3 timers)`)
  })
}
