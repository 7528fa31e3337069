// npm run bench:engine -- [flags]
//
// The durable step engine's cost, next to same-run baselines: pg-boss alone
// (send → handler latency, no-op jobs/s through the same number of workers)
// and one connection's commit rate. The workload is an orchestration of four
// no-op steps (so every figure is the engine's own overhead):
//   latency     --samples operations one at a time: start() → first step
//               (pickup) and the cost of one step (step overhead), idle.
//   distinct    --n operations started at once, each on its own key, run by
//               --c worker slots: orchestrations/s. This is the headline.
//   shared      --n operations over --keys keys (operation i on key i mod
//               keys): per-key serialisation holds all but one per key back.
//   backlog     --n operations on distinct keys queued while no worker runs,
//               then worked off by --c slots: the dispatch alone, starts
//               not timed (the drain above times them, made meanwhile).
//   callers     --c callers, each starting an operation and awaiting its
//               result (waitFor) before the next, --n in all, on distinct
//               keys and then over --keys keys: the DBOS peer's shape. A
//               start with a slot free runs in this process at once (an
//               eager start); the share that did is printed.
//
// Transactions are measured, not assumed: pg_stat_database.xact_commit of
// the benchmark's own database (read from another database; read only after
// every connection of a phase closed, because backends publish their counts
// lazily but always at exit). Other activity in that database (pg-boss's
// supervision and polling, the stack's start-up and shutdown) is isolated
// by a quiet phase right after each measured one: the same stack started,
// left idle as long as the measured work took, and closed; its count is
// subtracted. xact_commit counts every transaction, reads included; the
// write transactions are the xids assigned (cluster-wide: exact with
// --embedded or a server nobody else uses, otherwise an upper bound).
//
// Flags:
//   --n <ops>          operations per throughput phase (default 2000)
//   --c <slots>        worker slots (engine concurrency, pg-boss workers) (default 8)
//   --keys <k>         distinct keys of the shared-keys phase (default 8)
//   --samples <n>      sequential operations of the latency phase (default 200)
//   --embedded         run on a private throwaway PostgreSQL even when
//                      DATABASE_URL / TEST_DATABASE_URL is set (exact xid counts)
//   --profile          sample this process's CPU during the distinct-keys phase
//                      (V8 profiler, 1 ms) and print where it went, and how
//                      busy the process was (process.cpuUsage ÷ wall time)
//   --log-level <l>    the engine's log level (default silent): warn shows
//                      failed fetches and their reasons (deadlocks included)
//   --help             this text
//
// Uses DATABASE_URL / TEST_DATABASE_URL, else a throwaway embedded
// PostgreSQL; always in a fresh database dropped at the end. Last line: JSON.
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import pino from 'pino'
import { migrate } from '../src/db/migrate.ts'
import { Engine, orchestration } from '../src/engine/index.ts'
import { cli, load, num, pct, round, table } from './lib/cli.ts'
import { benchDatabase, committed } from './lib/database.ts'
import { startProfiling, type ProfileSummary } from './lib/profile.ts'

const args = cli(import.meta.filename, {
  n: { type: 'string', default: '2000' },
  c: { type: 'string', default: '8' },
  keys: { type: 'string', default: '8' },
  samples: { type: 'string', default: '200' },
  embedded: { type: 'boolean', default: false },
  profile: { type: 'boolean', default: false },
  'log-level': { type: 'string', default: 'silent' }
})
const N = num(args.n, 'n')
const C = num(args.c, 'c')
const KEYS = num(args.keys, 'keys')
const SAMPLES = num(args.samples, 'samples')
const POLLING = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 }
const HEARTBEAT_SECONDS = 10
const FOUR_NOOPS = 'bench::orchestration::four-noops'
interface Spread { p50: number, p99: number, max: number }
const spread = (ms: number[]): Spread => ({ p50: round(pct(ms, 50)), p99: round(pct(ms, 99)), max: round(Math.max(0, ...ms)) })
const fmt = (d: Spread): string => `${d.p50}, ${d.p99}, ${d.max}`
const logger = pino({ level: args['log-level'] })

const db = await benchDatabase({ embedded: args.embedded })
const loadBefore = load()

/** Counters of our database and the cluster's next xid (reading it assigns none). */
async function counters (): Promise<{ commits: number, xid: number }> {
  const { commits } = await committed(db.adminUrl, db.name)
  const client = new pg.Client({ connectionString: db.adminUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ x: string }>('SELECT txid_snapshot_xmax(txid_current_snapshot())::text AS x')
    return { commits, xid: Number(rows[0]!.x) }
  } finally {
    await client.end()
  }
}

/** As the app configures it (src/plugins/external/boss.ts): NOTIFY, supervision as often as heartbeats. */
function newBoss (): PgBoss {
  const boss = new PgBoss({
    connectionString: db.url, max: C + 4, useListenNotify: true, schedule: false,
    superviseIntervalSeconds: HEARTBEAT_SECONDS, monitorIntervalSeconds: HEARTBEAT_SECONDS
  })
  boss.on('error', () => {})
  return boss
}

interface EngineStack {
  engine: Engine
  /** Resolves when `count` more operations finished. */
  finished (count: number): Promise<void>
  close (): Promise<void>
}

async function engineStack (register: (engine: Engine) => void, concurrency = C): Promise<EngineStack> {
  const boss = newBoss()
  await boss.start()
  const pool = new pg.Pool({ connectionString: db.url, max: C * 2 + 4 })
  // After a failure the database is dropped under a stack nobody closed; its idle clients end then.
  pool.on('error', () => {})
  const engine = new Engine({ pool, boss, logger, concurrency, pollingIntervalSeconds: POLLING.pollingIntervalSeconds, heartbeatSeconds: HEARTBEAT_SECONDS })
  register(engine)
  let done = 0
  engine.on('operation:finished', () => { done++ })
  await engine.work()
  return {
    engine,
    finished (count) {
      const target = done + count
      return new Promise(resolve => {
        const check = (): void => { if (done >= target) { engine.off('operation:finished', check); resolve() } }
        engine.on('operation:finished', check)
        check()
      })
    },
    async close () {
      await engine.stop()
      await boss.stop({ graceful: true, timeout: 10_000 })
      await pool.end()
    }
  }
}

async function bossStack (): Promise<{ boss: PgBoss, close (): Promise<void> }> {
  const boss = newBoss()
  await boss.start()
  return { boss, close: () => boss.stop({ graceful: true, timeout: 10_000 }) }
}

interface Measured { seconds: number, commits: number, xids: number, quietCommits: number, quietXids: number }

/**
 * Runs `work` on a fresh stack and counts its transactions; then the quiet
 * phase: the same stack, idle as long as the work took, whose count is subtracted.
 */
async function measured<S extends { close (): Promise<void> }> (make: () => Promise<S>, work: (stack: S) => Promise<void>): Promise<Measured> {
  const c0 = await counters()
  const stack = await make()
  const t0 = performance.now()
  await work(stack)
  const seconds = (performance.now() - t0) / 1000
  await stack.close()
  const c1 = await counters()
  const quiet = await make()
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  await quiet.close()
  const c2 = await counters()
  return {
    seconds,
    commits: (c1.commits - c0.commits) - (c2.commits - c1.commits),
    xids: (c1.xid - c0.xid) - (c2.xid - c1.xid),
    quietCommits: c2.commits - c1.commits,
    quietXids: c2.xid - c1.xid
  }
}

async function commitRate (): Promise<number> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  await client.query('CREATE TABLE bench_commits (id serial PRIMARY KEY, v int)')
  const n = 2000
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await client.query('INSERT INTO bench_commits (v) VALUES ($1)', [i])
  const rate = n / ((performance.now() - t0) / 1000)
  await client.query('DROP TABLE bench_commits')
  await client.end()
  return rate
}

async function rawBossLatency (): Promise<number[]> {
  const { boss, close } = await bossStack()
  await boss.createQueue('bench.raw', { notify: true })
  let resolveOne: (ms: number) => void = () => {}
  await boss.work<{ t: number }>('bench.raw', POLLING, async ([job]) => { resolveOne(performance.now() - (job?.data.t ?? 0)) })
  const out: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const got = new Promise<number>(resolve => { resolveOne = resolve })
    await boss.send('bench.raw', { t: performance.now() })
    out.push(await got)
  }
  await close()
  return out
}

/** The ceiling pg-boss alone sets: N no-op jobs through C workers (fetch + complete), all sent in one insert. */
async function rawBossThroughput (): Promise<Measured> {
  const prepare = await bossStack()
  await prepare.boss.createQueue('bench.raw-throughput', { notify: true, heartbeatSeconds: HEARTBEAT_SECONDS })
  await prepare.close()
  return measured(bossStack, async ({ boss }) => {
    await boss.insert('bench.raw-throughput', Array.from({ length: N }, () => ({ data: {} })))
    let done = 0
    let finish: () => void = () => {}
    const all = new Promise<void>(resolve => { finish = resolve })
    for (let i = 0; i < C; i++) {
      let self = ''
      self = await boss.work('bench.raw-throughput', POLLING, async () => {
        if (++done === N) finish()
        boss.notifyWorker(self) // as the engine does: fetch again at once
      })
    }
    await all
  })
}

/** Registers the four-no-op orchestration; `onStep` sees each step's wall time. */
function fourNoops (firstStep?: Map<string, number>, overhead?: number[]) {
  return (engine: Engine): void => {
    engine.register(FOUR_NOOPS, async ctx => {
      for (const name of ['a', 'b', 'c', 'd']) {
        const t0 = performance.now()
        await ctx.step(name, async () => { if (name === 'a') firstStep?.set(ctx.operationId, performance.now()) })
        overhead?.push(performance.now() - t0)
      }
    })
  }
}

let profile: ProfileSummary | undefined
let busyCores: number | undefined
async function throughput (keyOf: (i: number) => string, overhead?: number[], profiled = false): Promise<Measured> {
  return measured(() => engineStack(fourNoops(undefined, overhead)), async stack => {
    const stop = profiled ? await startProfiling() : undefined
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    const all = stack.finished(N)
    await Promise.all(Array.from({ length: 16 }, async (_v, s) => {
      for (let i = s; i < N; i += 16) await stack.engine.start(orchestration(FOUR_NOOPS), {}, { key: keyOf(i) })
    }))
    await all
    if (stop) {
      const cpu = process.cpuUsage(cpu0)
      busyCores = round((cpu.user + cpu.system) / 1000 / (performance.now() - t0), 2)
      profile = await stop()
    }
  })
}

/**
 * A backlog: N operations on distinct keys queued by a stack that runs
 * nothing (each its row, due), then worked off by a fresh stack with C
 * slots, timed from its start to the last end. The drain above times the
 * starts too, made meanwhile by 16 concurrent callers on the same 2 cores;
 * this is the dispatch alone, as after a restart with work waiting.
 */
async function backlog (): Promise<Measured> {
  const starter = await engineStack(() => {}, 0)
  await Promise.all(Array.from({ length: 16 }, async (_v, s) => {
    for (let i = s; i < N; i += 16) await starter.engine.start(orchestration(FOUR_NOOPS), {}, { key: `bl-${i}` })
  }))
  await starter.close()
  return measured(() => engineStack(fourNoops()), stack => stack.finished(N))
}

/**
 * DBOS's shape: C callers, each starting an operation and awaiting its
 * result (waitFor) before starting the next. Counts the starts that ran
 * eagerly (claimed by start() itself: returned `running`).
 */
async function callers (keyOf: (i: number) => string): Promise<Measured & { eager: number, eagerMs: number[], queuedMs: number[] }> {
  let eager = 0
  const eagerMs: number[] = []
  const queuedMs: number[] = []
  const m = await measured(() => engineStack(fourNoops()), async stack => {
    let next = 0
    await Promise.all(Array.from({ length: C }, async () => {
      for (let i = next++; i < N; i = next++) {
        const t0 = performance.now()
        const { operation } = await stack.engine.start(orchestration(FOUR_NOOPS), {}, { key: keyOf(i) })
        if (operation.status === 'running') eager++
        await stack.engine.waitFor(operation.id)
        ;(operation.status === 'running' ? eagerMs : queuedMs).push(performance.now() - t0)
      }
    }))
  })
  return { ...m, eager, eagerMs, queuedMs }
}

/** What a failed run left: connections still open, and operations not finished (with their keys' holders and jobs). */
async function leftBehind (): Promise<string> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    const { rows: open } = await client.query(`SELECT pid, application_name, state, left(query, 120) AS query
      FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
    const { rows: live } = await client.query(`SELECT o.id, o.key, o.status, o.wake_at, o.lease IS NOT NULL AS leased, o.attempts, k.operation_id AS key_holder,
      (SELECT string_agg(j.state::text, ',') FROM pgboss.job j WHERE j.data->>'operationId' = o.id::text) AS jobs
      FROM toygres.operations o LEFT JOIN toygres.operation_keys k ON k.key = o.key
      WHERE o.status IN ('pending', 'running') ORDER BY o.created_at LIMIT 50`)
    return `connections still open: ${JSON.stringify(open)}\noperations not finished (first 50): ${JSON.stringify(live)}`
  } finally {
    await client.end()
  }
}

try {
  await migrate(db.url, logger)
  const commitsPerSecond = await commitRate()
  const raw = await rawBossLatency()
  const rawTp = await rawBossThroughput()

  // Latency: one operation at a time, so nothing queues.
  const firstStep = new Map<string, number>()
  const idleOverhead: number[] = []
  const pickup: number[] = []
  const lat = await engineStack(fourNoops(firstStep, idleOverhead))
  for (let i = 0; i < SAMPLES; i++) {
    const done = lat.finished(1)
    const t = performance.now()
    const { operation } = await lat.engine.start(orchestration(FOUR_NOOPS), {}, { key: `lat-${i}` })
    await done
    pickup.push((firstStep.get(operation.id) ?? NaN) - t)
  }
  await lat.close()

  const loadOverhead: number[] = []
  const distinct = await throughput(i => `tp-${i}`, loadOverhead, args.profile)
  const shared = await throughput(i => `shared-${i % KEYS}`)
  const queued = await backlog()
  const called = await callers(i => `call-${i}`)
  const calledShared = await callers(i => `call-shared-${i % KEYS}`)
  const loadAfter = load()

  const perOp = (m: Measured): { commits: number, xids: number } => ({ commits: round(m.commits / N, 2), xids: round(m.xids / N, 2) })
  const result = {
    bench: 'engine',
    database: db.server,
    n: N,
    c: C,
    keys: KEYS,
    samples: SAMPLES,
    load_average: { before: loadBefore, after: loadAfter },
    orchestrationsPerSecond: round(N / distinct.seconds, 1),
    sharedKeysOrchestrationsPerSecond: round(N / shared.seconds, 1),
    backlogOrchestrationsPerSecond: round(N / queued.seconds, 1),
    callers: {
      orchestrationsPerSecond: round(N / called.seconds, 1),
      sharedKeysOrchestrationsPerSecond: round(N / calledShared.seconds, 1),
      eagerShare: round(called.eager / N, 2),
      sharedKeysEagerShare: round(calledShared.eager / N, 2),
      /** start() → waitFor() resolved, per operation, split by how it started. */
      sharedKeysStartToEndMs: { eager: spread(calledShared.eagerMs), queued: spread(calledShared.queuedMs) },
      perOrchestration: perOp(called)
    },
    stepOverheadMs: { p50: round(pct(idleOverhead, 50)), p99: round(pct(idleOverhead, 99)) },
    stepOverheadUnderLoadMs: { p50: round(pct(loadOverhead, 50)), p99: round(pct(loadOverhead, 99)) },
    startToFirstStepMs: { p50: round(pct(pickup, 50)), p99: round(pct(pickup, 99)) },
    transactions: {
      distinctPerOrchestration: perOp(distinct),
      distinctPerStep: { commits: round(distinct.commits / N / 4, 2), xids: round(distinct.xids / N / 4, 2) },
      sharedPerOrchestration: perOp(shared),
      pgBossPerNoopJob: perOp(rawTp),
      quiet: {
        distinct: { seconds: round(distinct.seconds, 1), commits: distinct.quietCommits, xids: distinct.quietXids },
        shared: { seconds: round(shared.seconds, 1), commits: shared.quietCommits, xids: shared.quietXids },
        pgBoss: { seconds: round(rawTp.seconds, 1), commits: rawTp.quietCommits, xids: rawTp.quietXids }
      },
      xidsAreClusterWide: db.server === 'given'
    },
    ...(profile ? { profile: { busyCores, ...profile } } : {}),
    baselines: {
      pgBossSendToHandlerMs: { p50: round(pct(raw, 50)), p99: round(pct(raw, 99)) },
      pgBossNoopJobsPerSecond: Math.round(N / rawTp.seconds),
      singleConnectionCommitsPerSecond: Math.round(commitsPerSecond)
    }
  }
  const t = result.transactions
  process.stdout.write(`\nbench:engine — database: ${db.server}; n=${N}, c=${C} slots, shared phase over ${KEYS} keys, latency from ${SAMPLES} sequential runs; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
  process.stdout.write(table(['figure', 'engine', 'same-run baseline'], [
    ['orchestrations/s, 4 no-op steps, distinct keys', result.orchestrationsPerSecond, `pg-boss no-op jobs/s: ${result.baselines.pgBossNoopJobsPerSecond}`],
    [`orchestrations/s, ${N} over ${KEYS} shared keys`, result.sharedKeysOrchestrationsPerSecond, ''],
    [`orchestrations/s, a backlog of ${N} queued before the workers start (starts not timed)`, result.backlogOrchestrationsPerSecond, ''],
    [`orchestrations/s, ${C} callers each awaiting its own, distinct keys`, result.callers.orchestrationsPerSecond, `started eagerly: ${Math.round(100 * result.callers.eagerShare)} %`],
    [`orchestrations/s, ${C} callers each awaiting its own, ${KEYS} shared keys`, result.callers.sharedKeysOrchestrationsPerSecond, `started eagerly: ${Math.round(100 * result.callers.sharedKeysEagerShare)} %`],
    ['  start → end ms, eager / queued behind a key (p50, p99, max)', `${fmt(result.callers.sharedKeysStartToEndMs.eager)} / ${fmt(result.callers.sharedKeysStartToEndMs.queued)}`, ''],
    ['start() → first step p50 / p99, ms', `${result.startToFirstStepMs.p50} / ${result.startToFirstStepMs.p99}`, `pg-boss send → handler: ${result.baselines.pgBossSendToHandlerMs.p50} / ${result.baselines.pgBossSendToHandlerMs.p99}`],
    ['step overhead p50 / p99 (idle), ms', `${result.stepOverheadMs.p50} / ${result.stepOverheadMs.p99}`, `one commit: ${round(1000 / commitsPerSecond, 3)} ms (${result.baselines.singleConnectionCommitsPerSecond}/s)`],
    ['step overhead p50 / p99 (under load), ms', `${result.stepOverheadUnderLoadMs.p50} / ${result.stepOverheadUnderLoadMs.p99}`, ''],
    ['committed transactions per orchestration (incl. start)', t.distinctPerOrchestration.commits, `per pg-boss no-op job: ${t.pgBossPerNoopJob.commits}`],
    ['  per step', t.distinctPerStep.commits, ''],
    ['  with shared keys, per orchestration', t.sharedPerOrchestration.commits, ''],
    [`  with ${C} callers (incl. waitFor's reads), per orchestration`, result.callers.perOrchestration.commits, ''],
    [`write transactions (xids${t.xidsAreClusterWide ? ', cluster-wide' : ''}) per orchestration`, t.distinctPerOrchestration.xids, `per pg-boss no-op job: ${t.pgBossPerNoopJob.xids}`],
    ['  per step', t.distinctPerStep.xids, ''],
    ['  with shared keys, per orchestration', t.sharedPerOrchestration.xids, ''],
    [`  with ${C} callers, per orchestration`, result.callers.perOrchestration.xids, '']
  ]))
  process.stdout.write(`quiet phases (same stack idle as long, subtracted): distinct ${t.quiet.distinct.commits} commits / ${t.quiet.distinct.xids} xids in ${t.quiet.distinct.seconds} s; ` +
    `shared ${t.quiet.shared.commits} / ${t.quiet.shared.xids} in ${t.quiet.shared.seconds} s; pg-boss ${t.quiet.pgBoss.commits} / ${t.quiet.pgBoss.xids} in ${t.quiet.pgBoss.seconds} s\n`)
  if (profile) {
    process.stdout.write(`distinct-keys phase, this process: ${busyCores} cores busy; CPU profile (self time, ${profile.busy_ms} ms busy): ${profile.by_area.slice(0, 10).map(a => `${a.area} ${Math.round(100 * a.share)} %`).join(', ')}\n`)
    process.stdout.write(`  by who asked: ${profile.by_owner.slice(0, 8).map(a => `${a.owner} ${Math.round(100 * a.share)} %`).join(', ')}\n`)
  }
  process.stdout.write(`\nheadline: ${result.orchestrationsPerSecond} orchestrations/s (4 no-op steps, ${C} slots, distinct keys) = ${Math.round(100 * result.orchestrationsPerSecond / result.baselines.pgBossNoopJobsPerSecond)} % of pg-boss's own ${result.baselines.pgBossNoopJobsPerSecond} no-op jobs/s; ` +
    `${t.distinctPerOrchestration.commits} transactions per orchestration measured (${t.distinctPerStep.commits} per step); shared keys: ${result.sharedKeysOrchestrationsPerSecond}/s\n`)
  process.stdout.write(`${JSON.stringify(result)}\n`)
} catch (err) {
  // Said before the database is dropped: the drop ends the connections of a
  // stack left open by the failure, and their errors would hide this one.
  process.stderr.write(`bench:engine failed: ${(err as Error).stack ?? String(err)}\n${await leftBehind()}\n`)
  process.exitCode = 1
} finally {
  await db.close()
}
