// `node bench/health.ts --instances 1000 --workers 2 --interval 30 --rounds 3`:
// can N worker processes keep every running instance checked on schedule?
// Simulated targets: every instance row points at the benchmark's own
// PostgreSQL (so each probe is a real connect + SELECT 1). Each worker is a
// separate process running the real health plugin (orchestration, engine,
// reconciler) with a stand-in provisioner. After one warm-up interval it
// measures for --rounds intervals: checks/s against the required N/interval,
// the gap between consecutive checks of an instance (interval + lateness),
// per-interval coverage, and the health queue's depth over time.
// Uses DATABASE_URL / TEST_DATABASE_URL or an embedded PostgreSQL, in a fresh
// database dropped at the end. Last line: one JSON object.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { pino } from 'pino'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { queueName } from '../src/engine/index.ts'
import { orchestrationNames as orchestrations } from '../src/orchestrations/names.ts'
import controlPlane from '../src/plugins/app/control-plane.ts'
import engine from '../src/plugins/app/engine.ts'
import housekeeping from '../src/plugins/app/housekeeping.ts'
import orchestrationsPlugin from '../src/plugins/app/orchestrations.ts'
import secrets from '../src/plugins/app/secrets.ts'
import boss from '../src/plugins/external/boss.ts'
import db from '../src/plugins/external/db.ts'
import { createSecretBox } from '../src/secrets.ts'
import { benchDatabase, flags } from './lib/database.ts'

const opts = flags({ instances: 1000, workers: 2, interval: 30, rounds: 3, concurrency: 8 })
const QUEUE = queueName(orchestrations.HEALTH_CHECK)

async function worker (url: string, key: string, dataDir: string): Promise<void> {
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    DATABASE_URL: url,
    TOYGRES_SECRET_KEY: key,
    TOYGRES_DATA_DIR: dataDir,
    TOYGRES_WORKER_CONCURRENCY: String(opts.concurrency),
    TOYGRES_HEALTH_INTERVAL_SECONDS: String(opts.interval),
    TOYGRES_HEALTH_AUTO_RESTART: 'false'
  })
  const app = Fastify({ logger: { level: config.logLevel } })
  app.decorate('config', config)
  await app.register(db, { databaseUrl: url, migrate: false })
  await app.register(boss, { databaseUrl: url })
  await app.register(secrets)
  await app.register(controlPlane)
  await app.register(engine)
  // The stand-in provisioner: targets need no provisioning, nothing to restart.
  await app.register(fp(async a => { a.decorate('provisioner', { kind: 'local', close: async () => {} } as never) }, { name: 'provisioner' }))
  await app.register(orchestrationsPlugin)
  await app.register(housekeeping)
  await app.ready()
  process.send?.('ready')
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}
const r1 = (x: number): number => Math.round(x * 10) / 10

async function main (): Promise<void> {
  const database = await benchDatabase()
  const key = randomBytes(32).toString('hex')
  const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-health-'))
  const pool = new pg.Pool({ connectionString: database.url, max: 4 })
  const children: ChildProcess[] = []
  try {
    await migrate(database.url, pino({ level: 'silent' }))
    // N running instances, all pointing at this PostgreSQL.
    const target = new URL(database.url)
    const sealed = createSecretBox(Buffer.from(key, 'hex')).encrypt(decodeURIComponent(target.password))
    const connection = `postgresql://${target.username || 'postgres'}@${target.hostname}:${target.port || 5432}/postgres`
    await pool.query(
      `INSERT INTO toygres.instances (id, name, namespace, state, postgres_version, storage_size_gb, use_load_balancer, password_ciphertext, ip_connection_string)
       SELECT gen_random_uuid(), 'bench-' || g, 'toygres', 'running', '18', 1, false, $2, $3 FROM generate_series(1, $1) g`,
      [opts.instances, sealed, connection])

    const t0 = Date.now()
    for (let i = 0; i < opts.workers; i++) {
      const child = spawn(process.execPath, [import.meta.filename, '--worker', database.url, key, dataDir, ...process.argv.slice(2)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      children.push(child)
      await new Promise<void>((resolve, reject) => { child.once('message', () => resolve()); child.once('exit', code => reject(new Error(`worker exited ${code}`))) })
    }
    const intervalMs = opts.interval * 1000
    const sampleMs = Math.max(1000, intervalMs / 5)
    // Measured from one interval after the reconciler has started every monitor.
    let measureFrom = Number.POSITIVE_INFINITY
    let measureTo = Number.POSITIVE_INFINITY
    const rows: Array<{ t: number, rate: number, ready: number, deferred: number, active: number, monitors: number, stale: number }> = []
    let lastChecks = 0
    let lastAt = Date.now()
    process.stdout.write(`# ${opts.instances} instances, ${opts.workers} workers × concurrency ${opts.concurrency}, every ${opts.interval} s; warm-up until every monitor runs + ${opts.interval} s, then ${opts.rounds} intervals\n`)
    process.stdout.write('t_s   checks/s  queue_ready  queue_deferred  queue_active  monitors  stale\n')
    const hardStop = t0 + (opts.rounds + 6) * intervalMs + 120_000 // bounded even when monitors never all start
    while (Date.now() < Math.min(measureTo, hardStop)) {
      await new Promise(resolve => setTimeout(resolve, sampleMs))
      const { rows: [s] } = await pool.query(
        `SELECT (SELECT count(*)::int FROM toygres.health_checks) AS checks,
           (SELECT count(*)::int FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry') AND start_after <= now()) AS ready,
           (SELECT count(*)::int FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry') AND start_after > now()) AS deferred,
           (SELECT count(*)::int FROM pgboss.job WHERE name = $1 AND state = 'active') AS active,
           (SELECT count(*)::int FROM toygres.operations WHERE name = $2 AND status IN ('pending', 'running')) AS monitors,
           (SELECT count(*)::int FROM toygres.instances WHERE last_health_check_at IS NULL OR last_health_check_at < now() - make_interval(secs => $3)) AS stale`,
        [QUEUE, orchestrations.HEALTH_CHECK, opts.interval * 1.5])
      const now = Date.now()
      if (s.monitors >= opts.instances && measureFrom === Number.POSITIVE_INFINITY) {
        measureFrom = now + intervalMs
        measureTo = measureFrom + opts.rounds * intervalMs
      }
      const row = { t: (now - t0) / 1000, rate: (s.checks - lastChecks) / ((now - lastAt) / 1000), ready: s.ready, deferred: s.deferred, active: s.active, monitors: s.monitors, stale: s.stale }
      lastChecks = s.checks
      lastAt = now
      if (now >= measureFrom) rows.push(row)
      process.stdout.write(`${row.t.toFixed(0).padStart(4)}  ${row.rate.toFixed(1).padStart(8)}  ${String(row.ready).padStart(11)}  ${String(row.deferred).padStart(14)}  ${String(row.active).padStart(12)}  ${String(row.monitors).padStart(8)}  ${String(row.stale).padStart(5)}${now >= measureFrom ? '' : '  (warm-up)'}\n`)
    }

    if (rows.length === 0) throw new Error(`only some monitors started before the time limit: the reconciler could not keep up`)
    const from = new Date(measureFrom)
    const to = new Date(Math.min(measureTo, Date.now()))
    const { rows: gaps } = await pool.query<{ gap: number }>(
      `SELECT gap FROM (
         SELECT checked_at, extract(epoch FROM checked_at - lag(checked_at) OVER (PARTITION BY instance_id ORDER BY checked_at)) * 1000 AS gap
         FROM toygres.health_checks) g
       WHERE checked_at >= $1 AND checked_at < $2 AND gap IS NOT NULL`, [from, to])
    const lateness = gaps.map(g => Number(g.gap) - intervalMs)
    const { rows: windows } = await pool.query<{ covered: number }>(
      `SELECT count(DISTINCT instance_id)::int AS covered FROM toygres.health_checks
       WHERE checked_at >= $1 AND checked_at < $2
       GROUP BY floor(extract(epoch FROM checked_at - $1::timestamptz) / $3)`, [from, to, opts.interval])
    const { rows: [totals] } = await pool.query(
      'SELECT count(*)::int AS checks, count(*) FILTER (WHERE NOT ok)::int AS failed FROM toygres.health_checks WHERE checked_at >= $1 AND checked_at < $2', [from, to])
    const coverage = windows.map(w => w.covered / opts.instances)
    const required = opts.instances / opts.interval
    const achieved = totals.checks / (opts.rounds * opts.interval)
    const readyDepths = rows.map(r => r.ready)
    const summary = {
      bench: 'health',
      instances: opts.instances,
      workers: opts.workers,
      concurrency: opts.concurrency,
      interval_s: opts.interval,
      rounds: opts.rounds,
      required_checks_per_s: r1(required),
      achieved_checks_per_s: r1(achieved),
      failed_checks: totals.failed,
      min_coverage_per_interval: Math.min(...coverage),
      lateness_ms_p50: r1(pct(lateness, 50)),
      lateness_ms_p99: r1(pct(lateness, 99)),
      lateness_ms_max: r1(Math.max(...lateness)),
      queue_ready_max: Math.max(...readyDepths),
      queue_ready_first: readyDepths[0],
      queue_ready_last: readyDepths.at(-1),
      stale_max: Math.max(...rows.map(r => r.stale)),
      keeps_up: achieved >= required * 0.98 && Math.min(...coverage) >= 0.99 && (readyDepths.at(-1) ?? 0) <= Math.max(10, (readyDepths[0] ?? 0) * 2)
    }
    process.stdout.write(`\nchecks/s ${summary.achieved_checks_per_s} of ${summary.required_checks_per_s} required; coverage per interval ≥ ${(summary.min_coverage_per_interval * 100).toFixed(1)} %; ` +
      `lateness p50 ${summary.lateness_ms_p50} ms, p99 ${summary.lateness_ms_p99} ms; ready-queue max ${summary.queue_ready_max}; keeps up: ${summary.keeps_up}\n`)
    process.stdout.write(JSON.stringify(summary) + '\n')
  } finally {
    for (const child of children) child.kill('SIGTERM')
    await Promise.all(children.map(c => c.exitCode !== null ? undefined : new Promise(resolve => c.once('exit', resolve))))
    await pool.end()
    await database.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--worker') {
  const [url, key, dataDir] = process.argv.slice(3)
  await worker(url!, key!, dataDir!)
} else {
  await main()
}
