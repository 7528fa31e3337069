// One clock, the database's: a worker whose clock is off by seconds, in
// either direction, sleeps as long as it was asked, by the database's
// clock, and its durable timers do not spin (pg-boss releases a job by the
// database's now(); a wake-up time taken from a clock that is behind would
// be due at once and re-armed at once, over and over).
import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { setTimeout as delay } from 'node:timers/promises'
import { Engine, orchestration, queueName } from '../../src/engine/index.ts'
import { databaseClock } from '../../src/engine/clock.ts'
import { engineDatabase } from './helpers.ts'
import { logger, until } from './fixtures/setup.ts'

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

t.test('a durable timer\'s local alarm waits out the clock\'s uncertainty: it never fires before the timer is due by the database\'s clock', async t => {
  const db = await engineDatabase(t)
  const base = await db.stack({ concurrency: 0 })
  // Until the start returns, every statement leaves 60 ms after its send time was taken (a busy event loop, a
  // pool queue): the database reads its clock late in each round trip, so every offset this worker takes before
  // the timer is set (work()'s, the eager start's) is ahead by about 30 ms, the tightest too.
  let congested = true
  const late = new Proxy(base.pool, {
    get (target, prop) {
      const v = Reflect.get(target, prop, target)
      if (prop !== 'query') return typeof v === 'function' ? v.bind(target) : v
      return async (q: unknown, ...rest: unknown[]) => {
        if (congested) await delay(60)
        return (v as (...a: unknown[]) => unknown).call(target, q, ...rest)
      }
    }
  })
  // Polls once a minute: an alarm that fires early, finds nothing due and is not repeated leaves the timer to that poll.
  const worker = new Engine({ pool: late, boss: base.boss, logger, concurrency: 1, heartbeatSeconds: 10, pollingIntervalSeconds: 60 })
  t.teardown(() => worker.stop())
  const NAP = orchestration<Record<string, never>, string>('test::clock-nap')
  worker.register(NAP.name, async ctx => {
    await ctx.sleep(5)
    return ctx.step('woke', async () => 'on time')
  })
  await worker.work()
  const { operation } = await worker.start(NAP, {}, { key: 'nap' })
  congested = false
  t.equal(operation.status, 'running', 'started eagerly, its clock taken from the late statement')
  t.equal((await worker.waitFor(NAP, operation.id, { timeoutMs: 20_000 })).output, 'on time', 'woken by its alarm, not the poll')
})

t.test('the clock keeps the offset taken in the shortest round trip, until its bound, widened as it ages, is wider than a new one\'s', async t => {
  const clock = databaseClock()
  t.equal(clock.uncertainty(), 0, 'nothing observed yet')
  const now = Date.now()
  // The database's clock 1,000 ms ahead, read in a 4 ms round trip.
  clock.observe(now + 1002, now, now + 4)
  t.ok(Math.abs(clock.now() - Date.now() - 1000) < 5, 'offset from the midpoint')
  t.ok(clock.uncertainty() >= 2 && clock.uncertainty() < 3, 'half the round trip')
  // A 400 ms round trip (queueing on both sides) that would put the offset at 1,190 ms: not kept.
  clock.observe(now + 1390, now, now + 400)
  t.ok(Math.abs(clock.now() - Date.now() - 1000) < 5, 'the tight offset stays')
  t.ok(clock.uncertainty() < 3, 'and so does its bound')
  // 10 s later the kept bound is 2 + 10 ms: a 20 ms round trip (bound 10) replaces it.
  clock.observe(now + 10_000 + 1010, now + 10_000, now + 10_020)
  t.ok(Math.abs(clock.now() - Date.now() - 1000) < 5)
  t.ok(clock.uncertainty() >= 10 && clock.uncertainty() < 11, 'the newer, within the aged bound')
})
