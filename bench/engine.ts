// `npm run bench:engine -- --n 2000 --c 8`: the engine's cost, measured next
// to same-run baselines (raw pg-boss pickup, single-connection commit rate).
// Uses DATABASE_URL / TEST_DATABASE_URL, else a throwaway embedded PostgreSQL;
// always in a fresh database that is dropped at the end. Last line: JSON.
import { parseArgs } from 'node:util'
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import pino from 'pino'
import { migrate } from '../src/db/migrate.ts'
import { Engine, orchestration } from '../src/engine/index.ts'
import { benchDatabase } from './lib/database.ts'

const { values: args } = parseArgs({ options: { n: { type: 'string', default: '2000' }, c: { type: 'string', default: '8' }, samples: { type: 'string', default: '200' } } })
const N = Number(args.n)
const C = Number(args.c)
const SAMPLES = Number(args.samples)
const POLLING = { pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 }
const logger = pino({ level: 'silent' })

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number
}
const r2 = (x: number): number => Math.round(x * 100) / 100

async function commitRate (url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query('CREATE TABLE bench_commits (id serial PRIMARY KEY, v int)')
  const n = 2000
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await client.query('INSERT INTO bench_commits (v) VALUES ($1)', [i])
  const rate = n / ((performance.now() - t0) / 1000)
  await client.end()
  return rate
}

function newBoss (url: string): PgBoss {
  const boss = new PgBoss({ connectionString: url, max: C + 4, useListenNotify: true, schedule: false })
  boss.on('error', () => {})
  return boss
}

async function rawBossLatency (boss: PgBoss): Promise<number[]> {
  await boss.createQueue('bench.raw', { notify: true })
  let resolveOne: (ms: number) => void = () => {}
  await boss.work<{ t: number }>('bench.raw', POLLING, async ([job]) => { resolveOne(performance.now() - (job?.data.t ?? 0)) })
  const out: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const got = new Promise<number>(resolve => { resolveOne = resolve })
    await boss.send('bench.raw', { t: performance.now() })
    out.push(await got)
  }
  await boss.offWork('bench.raw')
  return out
}

/** The ceiling pg-boss alone sets: N no-op jobs through C workers (fetch + complete). */
async function rawBossThroughput (boss: PgBoss): Promise<number> {
  await boss.createQueue('bench.raw-throughput', { notify: true, heartbeatSeconds: 10 })
  await boss.insert('bench.raw-throughput', Array.from({ length: N }, () => ({ data: {} })))
  let done = 0
  let finish: () => void = () => {}
  const all = new Promise<void>(resolve => { finish = resolve })
  const t0 = performance.now()
  for (let i = 0; i < C; i++) {
    let self = ''
    self = await boss.work('bench.raw-throughput', POLLING, async () => {
      if (++done === N) finish()
      boss.notifyWorker(self) // as the engine does: fetch again at once
    })
  }
  await all
  const rate = N / ((performance.now() - t0) / 1000)
  await boss.offWork('bench.raw-throughput')
  return rate
}

async function writeXids (pool: pg.Pool): Promise<number> {
  // xmax of a fresh snapshot: the next xid to assign. Reading it assigns none.
  const { rows } = await pool.query<{ x: string }>('SELECT txid_snapshot_xmax(txid_current_snapshot())::text AS x')
  return Number(rows[0]?.x)
}

const db = await benchDatabase()
const url = db.url

try {
  await migrate(url, logger)
  const commitsPerSecond = await commitRate(url)
  const boss = newBoss(url)
  await boss.start()
  const raw = await rawBossLatency(boss)
  const rawThroughput = await rawBossThroughput(boss)

  const pool = new pg.Pool({ connectionString: url, max: C * 2 + 4 })
  const engine = new Engine({ pool, boss, logger, concurrency: C, pollingIntervalSeconds: 2 })
  const startedAt = new Map<string, number>()
  const firstStep = new Map<string, number>()
  const overhead: number[] = []
  engine.register('bench::orchestration::four-noops', async ctx => {
    for (const name of ['a', 'b', 'c', 'd']) {
      const t0 = performance.now()
      await ctx.step(name, async () => { if (name === 'a') firstStep.set(ctx.operationId, performance.now()) })
      overhead.push(performance.now() - t0)
    }
  })
  const finished = new Map<string, () => void>()
  let done = 0
  engine.on('operation:finished', () => { done++ })
  await engine.work()
  const waitDone = (target: number): Promise<void> => new Promise(resolve => {
    const check = (): void => { if (done >= target) { engine.off('operation:finished', check); resolve() } }
    engine.on('operation:finished', check)
    check()
  })

  // Phase 1, latency: one orchestration at a time, so nothing queues.
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now()
    const { operation } = await engine.start(orchestration('bench::orchestration::four-noops'), {}, { key: `lat-${i}` })
    startedAt.set(operation.id, t)
    await waitDone(i + 1)
  }
  const pickup = [...startedAt].map(([id, t]) => (firstStep.get(id) ?? NaN) - t)
  const idleOverhead = overhead.splice(0)

  // Phase 2, throughput: N orchestrations submitted at once, C workers.
  const xid0 = await writeXids(pool)
  const base = done
  const t0 = performance.now()
  const starters = Array.from({ length: 16 }, async (_v, s) => {
    for (let i = s; i < N; i += 16) await engine.start(orchestration('bench::orchestration::four-noops'), {}, { key: `tp-${i}` })
  })
  await Promise.all(starters)
  const submitted = performance.now()
  await waitDone(base + N)
  const elapsed = (performance.now() - t0) / 1000
  const xid1 = await writeXids(pool)
  const loadOverhead = overhead.splice(0)
  const { rows: [{ n: checkpoints }] } = await pool.query('SELECT count(*)::int AS n FROM toygres.operation_steps')

  await engine.stop()
  await boss.stop({ graceful: true, timeout: 10_000 })
  await pool.end()
  void finished

  const result = {
    n: N,
    c: C,
    orchestrationsPerSecond: r2(N / elapsed),
    submitSeconds: r2((submitted - t0) / 1000),
    stepOverheadMs: { p50: r2(pct(idleOverhead, 50)), p99: r2(pct(idleOverhead, 99)) },
    stepOverheadUnderLoadMs: { p50: r2(pct(loadOverhead, 50)), p99: r2(pct(loadOverhead, 99)) },
    startToFirstStepMs: { p50: r2(pct(pickup, 50)), p99: r2(pct(pickup, 99)) },
    engineCommitsPerStep: 1,
    writeTransactionsPerStepAllIncluded: r2((xid1 - xid0) / (N * 4)),
    checkpointRows: checkpoints,
    baselines: {
      pgBossSendToHandlerMs: { p50: r2(pct(raw, 50)), p99: r2(pct(raw, 99)) },
      pgBossNoopJobsPerSecond: Math.round(rawThroughput),
      singleConnectionCommitsPerSecond: Math.round(commitsPerSecond)
    }
  }
  const rows: Array<[string, string]> = [
    ['orchestrations/s (4 no-op steps, c workers)', `${result.orchestrationsPerSecond}`],
    ['step overhead p50 / p99 (idle), ms', `${result.stepOverheadMs.p50} / ${result.stepOverheadMs.p99}`],
    ['step overhead p50 / p99 (under load), ms', `${result.stepOverheadUnderLoadMs.p50} / ${result.stepOverheadUnderLoadMs.p99}`],
    ['start() -> first step p50 / p99, ms', `${result.startToFirstStepMs.p50} / ${result.startToFirstStepMs.p99}`],
    ['engine commits per step', '1 (one fenced INSERT per checkpoint)'],
    ['write transactions per step, everything', `${result.writeTransactionsPerStepAllIncluded}`],
    ['baseline: pg-boss send -> handler p50 / p99, ms', `${result.baselines.pgBossSendToHandlerMs.p50} / ${result.baselines.pgBossSendToHandlerMs.p99}`],
    ['baseline: pg-boss no-op jobs/s, c workers', `${result.baselines.pgBossNoopJobsPerSecond}`],
    ['baseline: single-connection commits/s', `${result.baselines.singleConnectionCommitsPerSecond}`]
  ]
  const w = Math.max(...rows.map(r => r[0].length))
  process.stdout.write(`\nengine benchmark: n=${N} c=${C} (latency figures from ${SAMPLES} sequential runs)\n`)
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(w)}  ${v}\n`)
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  await db.close()
}
