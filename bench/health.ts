// npm run bench:health -- [flags]
//
// Can --workers worker processes keep --instances running instances checked
// every --interval seconds when some targets misbehave? Each worker is a
// separate process running the real plugins (engine, metrics, health-check
// orchestration per instance, check-health activity, housekeeping that
// starts the monitors) with a stand-in provisioner (nothing to provision or
// restart: auto-restart is off). Every instance is stored as the local
// provisioner stores one: ip_connection_string
// postgresql://postgres@127.0.0.1:<port>/postgres?sslmode=require (which the
// probe verifies as libpq's verify-ca against the control plane's CA) and
// the password sealed with the secret key; so each check runs the product's
// path (read the target, decrypt, TLS verified against the CA, SCRAM,
// SELECT 1, record). The targets, all on loopback:
//   ok       a PostgreSQL server started for this run (bench/lib/tls-target.ts),
//            set up as the local provisioner sets up an instance: ssl = on
//            with a server certificate issued by the control plane's CA (the
//            one the workers load from the database), scram-sha-256 for the
//            postgres role. Each check: TCP, TLS 1.3 handshake, SCRAM, SELECT 1
//   slow     --slow of them: a TCP proxy in front of that server that holds
//            the first byte back for 2 s (the check succeeds after ~2 s)
//   refuse   --refuse of them: a closed port (ECONNREFUSED at once)
//   hang     --hang of them: accepts TCP and never answers (the check times
//            out after TOYGRES_HEALTH_TIMEOUT_SECONDS, --timeout)
// The TLS target shares the machine with the workers and the control-plane
// database (in production it is the instances' machines): its CPU is shown
// apart (the postmaster's and its reaped backends', /proc), not in the
// workers' CPU per check.
//
// After the reconciler has started every monitor and one more interval, it
// measures --rounds intervals:
//   lateness    per check: when the probe started (health_checks.checked_at:
//               the database's clock at recording minus the probe's response
//               time) minus when it was due (health_checks.due_at, the timer
//               the orchestration slept until); the same figure the workers
//               export as toygres_health_check_lateness_seconds, whose
//               histogram over the window is shown beside it. A monitor's
//               first check has no due time (unattributed). The headline is
//               the ok targets' p50/p99/max, split into queue wait (due →
//               picked up: the `$sleep` step's finished_at, which the run that
//               claims the operation after its timer writes by the database's
//               clock) and run (picked up → probe started). The step rows of
//               a monitor's earlier generations are deleted when it continues
//               as new (every 10 checks), so the split covers only the checks
//               whose row was still there when read, right at the window's
//               end (its coverage is shown); the lateness covers every check.
//   gap         the longest time between two checks of one instance, or from
//               its last check to the window's end (a missed check shows).
//   unchecked   instances of a kind with no check at all in the window.
//   backlog     health-check operations ready to run that no run holds:
//               `due` (timer passed) plus `pending` (started, never run: a
//               monitor's first check waits there; due timers are claimed
//               first, and starts get a fetch of their own only once due rows
//               filled every fetch for a polling interval, so with too few
//               slots new monitors start slowly), counted by the SQL of
//               engine.countLive(), which the toygres_operations{state=...}
//               gauge reports, sampled with
//               the age of the oldest due one (a pending monitor's from the
//               first due time housekeeping gave it); its trend is a least-squares slope,
//               operations/min; it counts as growing when trend × window >
//               max(10, 1 % of instances), and as saturated (not steady) when
//               it ever holds half the instances.
//   xacts       transactions committed in the benchmark's database per check
//               (pg_stat_database.xact_commit over the window: busy backends
//               publish about once a second, so ±1 s of traffic).
//   CPU         per check, of the worker processes (process.cpuUsage over the
//               window ÷ checks done in it), split into the probe itself
//               (connect, TLS handshake and verification, SCRAM, SELECT 1) and
//               the rest (the engine, pg-boss, the activities' two queries,
//               decrypting the password, metrics): the probe's share is
//               measured right after the window, once the workers stopped, in
//               a fresh process that runs nothing else (no app, no engine),
//               running the same checkHealth() with the same CA on each kind
//               of target (CPU per probe, by kind, the process's idle CPU
//               subtracted; ok and refusing targets as many at once as a
//               worker had ok probes in flight on average in the window, since
//               concurrent probes share event-loop turns and system calls; the
//               ok probe three times, as one run's figure varies by ±20 % on a
//               shared machine: the median is used, the range shown; and 64
//               at once (at most --concurrency), since the workers' event
//               loops also carry the engine's traffic: the split were ok probes
//               that cheap is shown beside, as a bound; slow and
//               hanging targets with 100 ms instead of 2 s / 5 s waits, so the
//               idle CPU of a long wait does not swamp the probe's), weighted
//               by the kinds' checks in the window. The workers' idle CPU
//               (measured for 5 s before any instance exists) is shown as part
//               of the rest. The split is an estimate: a negative rest means
//               the probes cost less in the workers than alone, within noise.
// The goal it reports against (for ok targets): no check more than one
// interval late, p99 lateness < 2 s, a backlog that does not grow.
//
// Flags:
//   --instances <n>     running instances to monitor (default 1000)
//   --workers <n>       worker processes (default 2)
//   --interval <s>      TOYGRES_HEALTH_INTERVAL_SECONDS (default 30)
//   --rounds <n>        intervals measured (default 3)
//   --concurrency <n>   TOYGRES_HEALTH_CONCURRENCY of each worker: health
//                       checks at once per process (default 128, the product's)
//   --worker-concurrency <n>  TOYGRES_WORKER_CONCURRENCY of each worker: runs at
//                       once of every other orchestration (default 8)
//   --timeout <s>       TOYGRES_HEALTH_TIMEOUT_SECONDS (default 5)
//   --slow <f>          share of slow targets (default 0.05)
//   --refuse <f>        share of refusing targets (default 0.05)
//   --hang <f>          share of hanging targets (default 0.05)
//   --limit <s>         stop after this long even when not every monitor has
//                       started yet, and measure the last --rounds intervals as
//                       they were (default (rounds + 6) × interval + 300)
//   --profile           sample the workers' CPU over the window (V8 profiler,
//                       1 ms) and print where the time went, by package / src
//                       folder and by function; the raw profiles are kept as
//                       <tmpdir>/toygres-bench-health-worker-<n>.cpuprofile
//                       (adds a little CPU of its own)
//   --statements        count the statements the workers send over the window,
//                       per check (pg.Client#query calls, pg-boss's included, by
//                       the query's name or its text's start); not with
//                       --profile, whose profile the counting wrapper would blur
//   --help              this text
//
// Uses DATABASE_URL / TEST_DATABASE_URL or an embedded PostgreSQL, in a fresh
// database dropped at the end. Last line: one JSON object.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import pg from 'pg'
import { pino } from 'pino'
import { checkHealth } from '../src/activities/check-health.ts'
import { loadConfig } from '../src/config.ts'
import { migrate } from '../src/db/migrate.ts'
import { claimControlPlaneId } from '../src/db/control-plane.ts'
import { countLive } from '../src/engine/sql/operations.ts'
import { orchestrationNames as orchestrations } from '../src/orchestrations/names.ts'
import controlPlane from '../src/plugins/app/control-plane.ts'
import engine from '../src/plugins/app/engine.ts'
import housekeeping from '../src/plugins/app/housekeeping.ts'
import metrics from '../src/plugins/app/metrics.ts'
import orchestrationsPlugin from '../src/plugins/app/orchestrations.ts'
import secrets from '../src/plugins/app/secrets.ts'
import boss from '../src/plugins/external/boss.ts'
import db from '../src/plugins/external/db.ts'
import { createSecretBox } from '../src/secrets.ts'
import { loadCertificateAuthority } from '../src/tls/authority.ts'
import { cli, load, num, pct, round, table } from './lib/cli.ts'
import { benchDatabase } from './lib/database.ts'
import { merge, startProfiling, type ProfileSummary } from './lib/profile.ts'
import { startTlsTarget } from './lib/tls-target.ts'

const KINDS = ['ok', 'slow', 'refuse', 'hang'] as const
type Kind = typeof KINDS[number]
const SLOW_MS = 2000
const IDLE_MS = 5000

// ---------------------------------------------------------------- worker ---

interface WorkerSpec { url: string, key: string, dataDir: string, healthConcurrency: number, workerConcurrency: number, interval: number, timeout: number, statements: boolean, index: number }
interface Calibration { kind: Kind, target: string, password: string, probes: number, concurrency: number, timeoutMs: number, /** Not the split's figure: a bound shown beside it. */ bound?: boolean }
type Ask = { cmd: 'cpu', profile?: 'start' | 'stop', statements?: 'start' | 'stop' }
type Request = Ask & { id: number }

/**
 * Counts pg.Client#query calls (pg-boss and the pool's clients included) while
 * `counting.on`: by the query's name when it has one, else its text's start;
 * statements to anything but the control-plane database (the probes') are
 * marked [target].
 */
function countStatements (databasePort: number): { on: boolean, counts: Map<string, number> } {
  const counting = { on: false, counts: new Map<string, number>() }
  const original = pg.Client.prototype.query
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counting.on) {
      const q = args[0] as string | { name?: string, text?: string }
      const text = typeof q === 'string' ? q : q?.name ?? q?.text ?? '?'
      const key = `${this.port === databasePort ? '' : '[target] '}${text.replace(/\s+/g, ' ').trim().slice(0, 100)}`
      counting.counts.set(key, (counting.counts.get(key) ?? 0) + 1)
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof original
  return counting
}

async function worker (spec: WorkerSpec): Promise<void> {
  const statements = spec.statements ? countStatements(Number(new URL(spec.url).port || 5432)) : undefined
  const config = loadConfig({
    LOG_LEVEL: 'error',
    DATABASE_URL: spec.url,
    TOYGRES_SECRET_KEY: spec.key,
    TOYGRES_DATA_DIR: spec.dataDir,
    TOYGRES_WORKER_CONCURRENCY: String(spec.workerConcurrency),
    TOYGRES_HEALTH_CONCURRENCY: String(spec.healthConcurrency),
    TOYGRES_HEALTH_INTERVAL_SECONDS: String(spec.interval),
    TOYGRES_HEALTH_TIMEOUT_SECONDS: String(spec.timeout),
    TOYGRES_HEALTH_AUTO_RESTART: 'false'
  })
  const app = Fastify({ logger: { level: config.logLevel } })
  app.decorate('config', config)
  await app.register(db, { databaseUrl: spec.url, migrate: false })
  await app.register(boss, { databaseUrl: spec.url })
  await app.register(secrets)
  await app.register(controlPlane)
  await app.register(engine)
  // The stand-in provisioner: targets need no provisioning, nothing to restart.
  await app.register(fp(async a => { a.decorate('provisioner', { kind: 'local', close: async () => {} } as never) }, { name: 'provisioner' }))
  // As in app.ts: the activities report each check's duration and lateness to it.
  await app.register(metrics)
  await app.register(orchestrationsPlugin)
  await app.register(housekeeping)
  await app.ready()
  const lateness = app.metrics.registry.getSingleMetric('toygres_health_check_lateness_seconds')!

  let stopProfiling: (() => Promise<ProfileSummary>) | undefined
  process.on('message', (msg: Request) => {
    void (async () => {
      const cpu = process.cpuUsage()
      // The app's own lateness histogram (cumulative counts by upper bound, in seconds), read at the same moment.
      const buckets: Record<string, number> = {}
      for (const v of (await lateness.get()).values as Array<{ metricName?: string, labels: Record<string, string | number>, value: number }>) if (v.metricName?.endsWith('_bucket')) buckets[String(v.labels.le)] = v.value
      if (msg.profile === 'start') stopProfiling = await startProfiling(1000, join(tmpdir(), `toygres-bench-health-worker-${spec.index}.cpuprofile`))
      if (msg.statements === 'start' && statements) statements.on = true
      let counted: Record<string, number> | undefined
      if (msg.statements === 'stop' && statements) {
        statements.on = false
        counted = Object.fromEntries(statements.counts)
      }
      const profile = msg.profile === 'stop' && stopProfiling ? await stopProfiling() : undefined
      process.send!({ id: msg.id, cpu, buckets, profile, statements: counted })
    })()
  })
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
  // A benchmark that died without stopping us must not leave us running.
  process.once('disconnect', () => process.exit(1))
  process.send!({ ready: true })
}

// ------------------------------------------------------------ calibrator ---

interface CalibrationRun { kind: Kind, bound?: boolean, probes: number, concurrency: number, cpu_us_per_probe: number, idle_us_subtracted_per_probe: number, wall_ms_p50: number, ok: number }

/**
 * The probe alone, in a process of its own that runs nothing else (no app,
 * no engine), started after the workers stopped: the same checkHealth() with
 * the same CA, each kind of target in turn, its own idle CPU subtracted.
 */
async function calibrator (): Promise<void> {
  const { runs, caPem } = await new Promise<{ runs: Calibration[], caPem: string }>(resolve => process.once('message', resolve))
  // Warm-up, unmeasured: compiling, and each kind's first probes.
  for (const run of runs) for (let i = 0; i < 10; i++) await checkHealth({ connection_string: run.target, password: run.password, ca_pem: caPem, timeout_ms: run.timeoutMs }, new AbortController().signal)
  // What the process burns doing nothing (timers, GC), per ms: subtracted from each run.
  const idle0 = process.cpuUsage()
  const idleT0 = performance.now()
  await new Promise(resolve => setTimeout(resolve, 2000))
  const idleCpu = process.cpuUsage(idle0)
  const idlePerMs = (idleCpu.user + idleCpu.system) / (performance.now() - idleT0)
  const out: CalibrationRun[] = []
  for (const run of runs) {
    const walls: number[] = []
    let ok = 0
    let next = 0
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await Promise.all(Array.from({ length: run.concurrency }, async () => {
      while (next++ < run.probes) {
        const r = await checkHealth({ connection_string: run.target, password: run.password, ca_pem: caPem, timeout_ms: run.timeoutMs }, new AbortController().signal)
        walls.push(r.response_time_ms)
        if (r.ok) ok++
      }
    }))
    const cpu = process.cpuUsage(cpu0)
    const idle = idlePerMs * (performance.now() - t0)
    out.push({
      kind: run.kind,
      ...(run.bound ? { bound: true } : {}),
      probes: run.probes,
      concurrency: run.concurrency,
      cpu_us_per_probe: round(Math.max(0, cpu.user + cpu.system - idle) / run.probes, 1),
      idle_us_subtracted_per_probe: round(idle / run.probes, 1),
      wall_ms_p50: round(pct(walls, 50), 1),
      ok
    })
  }
  process.send!(out, () => process.exit(0))
}

/** SIGTERM (the app closes), then SIGKILL for any still there after `graceMs`: a housekeeping pass starting thousands of monitors would hold a close for minutes. */
async function stopAll (children: ChildProcess[], graceMs: number): Promise<void> {
  await Promise.all(children.map(async child => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }))
}

// --------------------------------------------------------------- targets ---

/** Answers after `delayMs`: holds the client for that long, then pipes it to the real server. */
function slowProxy (upstream: { host: string, port: number }, delayMs: number): Promise<net.Server> {
  const server = net.createServer(client => {
    client.pause()
    client.on('error', () => {})
    const timer = setTimeout(() => {
      const up = net.connect(upstream.port, upstream.host)
      up.on('error', () => client.destroy())
      client.on('close', () => up.destroy())
      up.on('close', () => client.destroy())
      up.pipe(client)
      client.pipe(up)
      client.resume()
    }, delayMs)
    client.on('close', () => clearTimeout(timer))
  })
  return listen(server)
}

/** Accepts TCP and never answers. */
function hangingServer (): Promise<net.Server> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer(s => { sockets.add(s); s.on('error', () => {}); s.on('close', () => sockets.delete(s)) })
  server.on('close', () => { for (const s of sockets) s.destroy() })
  return listen(server)
}

function listen (server: net.Server): Promise<net.Server> {
  return new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', () => resolve(server)) })
}
const portOf = (s: net.Server): number => (s.address() as net.AddressInfo).port

/** A port nothing listens on: bound once by us, then closed. */
async function closedPort (): Promise<number> {
  const s = await listen(net.createServer())
  const port = portOf(s)
  await new Promise(resolve => s.close(resolve))
  return port
}

// ------------------------------------------------------------------ main ---

/** Least-squares slope of y over x. */
function slope (xs: number[], ys: number[]): number {
  const n = xs.length
  if (n < 2) return NaN
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2 }
  return den === 0 ? 0 : num / den
}

async function main (): Promise<void> {
  const args = cli(import.meta.filename, {
    instances: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    interval: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '128' },
    'worker-concurrency': { type: 'string', default: '8' },
    timeout: { type: 'string', default: '5' },
    slow: { type: 'string', default: '0.05' },
    refuse: { type: 'string', default: '0.05' },
    hang: { type: 'string', default: '0.05' },
    profile: { type: 'boolean', default: false },
    statements: { type: 'boolean', default: false },
    limit: { type: 'string' }
  })
  const opts = {
    instances: num(args.instances, 'instances'),
    workers: num(args.workers, 'workers'),
    interval: num(args.interval, 'interval'),
    rounds: num(args.rounds, 'rounds'),
    concurrency: num(args.concurrency, 'concurrency'),
    workerConcurrency: num(args['worker-concurrency'], 'worker-concurrency'),
    timeout: num(args.timeout, 'timeout')
  }
  const shares: Record<Kind, number> = { ok: 0, slow: num(args.slow, 'slow'), refuse: num(args.refuse, 'refuse'), hang: num(args.hang, 'hang') }
  const counts: Record<Kind, number> = { ok: 0, slow: Math.round(opts.instances * shares.slow), refuse: Math.round(opts.instances * shares.refuse), hang: Math.round(opts.instances * shares.hang) }
  counts.ok = opts.instances - counts.slow - counts.refuse - counts.hang
  if (counts.ok <= 0) throw new Error('no ok targets left: lower --slow, --refuse or --hang')
  const intervalMs = opts.interval * 1000
  if (args.profile && args.statements) throw new Error('--statements and --profile: one at a time (the counting wrapper would show in the profile)')

  const database = await benchDatabase()
  const key = randomBytes(32).toString('hex')
  const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-health-'))
  const pool = new pg.Pool({ connectionString: database.url, max: 4 })
  const children: ChildProcess[] = []
  const closers: Array<() => unknown> = []
  const loadBefore = load()
  try {
    await migrate(database.url, pino({ level: 'silent' }))
    // The control plane's CA, stored as the first replica to boot stores it: the workers load this one.
    const box = createSecretBox(Buffer.from(key, 'hex'))
    const authority = await loadCertificateAuthority(pool, box, await claimControlPlaneId(pool, randomBytes(6).toString('hex')))
    const tlsTarget = await startTlsTarget({ authority, maxConnections: Math.max(100, opts.workers * opts.concurrency + 50) })
    closers.push(() => tlsTarget.stop())
    const upstream = { host: tlsTarget.host, port: tlsTarget.port }
    const slow = await slowProxy(upstream, SLOW_MS)
    const hang = await hangingServer()
    closers.push(() => slow.close(), () => hang.close())
    const refused = await closedPort()
    const password = tlsTarget.password
    const targets: Record<Kind, string> = {
      ok: tlsTarget.connectionString,
      slow: tlsTarget.connectionStringAt(portOf(slow)),
      refuse: tlsTarget.connectionStringAt(refused),
      hang: tlsTarget.connectionStringAt(portOf(hang))
    }
    // Workers, one request at a time each over IPC.
    const pending = new Map<number, (reply: Record<string, unknown>) => void>()
    let nextId = 0
    const ask = (child: ChildProcess, req: Ask): Promise<Record<string, unknown>> => new Promise(resolve => {
      const id = nextId++
      pending.set(id, resolve)
      child.send({ ...req, id })
    })
    const t0 = Date.now()
    const spec: Omit<WorkerSpec, 'index'> = { url: database.url, key, dataDir, healthConcurrency: opts.concurrency, workerConcurrency: opts.workerConcurrency, interval: opts.interval, timeout: opts.timeout, statements: args.statements }
    for (let i = 0; i < opts.workers; i++) {
      const child = spawn(process.execPath, [import.meta.filename, '--worker', JSON.stringify({ ...spec, index: i })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      children.push(child)
      child.on('message', (m: { id?: number }) => { if (m.id !== undefined) { pending.get(m.id)?.(m as Record<string, unknown>); pending.delete(m.id) } })
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve())
        child.once('exit', code => reject(new Error(`worker exited ${code}`)))
      })
    }
    const profiles: ProfileSummary[] = []
    const statementCounts = new Map<string, number>()
    const admin = new pg.Client({ connectionString: database.adminUrl })
    await admin.connect()
    const xacts = async (): Promise<number> => {
      await admin.query('SELECT pg_stat_clear_snapshot()')
      const { rows: [r] } = await admin.query<{ c: string }>('SELECT xact_commit::text AS c FROM pg_stat_database WHERE datname = $1', [database.name])
      return Number(r!.c)
    }
    let xactFrom = 0
    let samplesInWindow = 0
    // The workers' CPU (µs) and, read at the same moment, their lateness histograms summed (cumulative counts by upper bound).
    let bucketsNow: Record<string, number> = {}
    const cpuNow = async (profile?: 'start' | 'stop'): Promise<number> => {
      const all = await Promise.all(children.map(c => ask(c, { cmd: 'cpu', ...(args.profile && profile ? { profile } : {}), ...(args.statements && profile ? { statements: profile } : {}) })))
      for (const r of all) if (r.profile) profiles.push(r.profile as ProfileSummary)
      for (const r of all) for (const [k, n] of Object.entries((r.statements ?? {}) as Record<string, number>)) statementCounts.set(k, (statementCounts.get(k) ?? 0) + n)
      bucketsNow = {}
      for (const r of all) for (const [le, n] of Object.entries(r.buckets as Record<string, number>)) bucketsNow[le] = (bucketsNow[le] ?? 0) + n
      return all.reduce((sum, r) => { const cpu = r.cpu as NodeJS.CpuUsage; return sum + cpu.user + cpu.system }, 0)
    }

    // The workers' idle cost (no instances yet: pg-boss polling and supervision, housekeeping).
    const idleCpu0 = await cpuNow()
    const idleT0 = Date.now()
    await new Promise(resolve => setTimeout(resolve, IDLE_MS))
    const idleCores = (await cpuNow() - idleCpu0) / 1000 / (Date.now() - idleT0)
    // Then the instances: housekeeping's next pass (within one interval) starts their monitors.
    // Each instance's password sealed on its own, as the product seals each instance's.
    for (const kind of KINDS) {
      await pool.query(
        `INSERT INTO toygres.instances (id, name, namespace, state, postgres_version, storage_size_gb, use_load_balancer, password_ciphertext, ip_connection_string)
         SELECT gen_random_uuid(), $3 || '-' || g, 'toygres', 'running', '18', 1, false, s.sealed, $1
         FROM unnest($2::text[]) WITH ORDINALITY AS s(sealed, g)`,
        [targets[kind], Array.from({ length: counts[kind] }, () => box.encrypt(password)), kind])
    }

    const sampleMs = Math.max(1000, intervalMs / 6)
    // Each sample is two statements (two transactions in the benchmark's database), subtracted from the workers'.
    const XACTS_PER_SAMPLE = 2
    let measureFrom = Number.POSITIVE_INFINITY
    let allRunningAt: number | undefined
    let measureTo = Number.POSITIVE_INFINITY
    let cpuFrom = 0
    let bucketsFrom: Record<string, number> = {}
    let targetCpuFrom = 0
    let windowStart: NodeJS.Timeout | undefined
    let windowStarted: Promise<void> = Promise.resolve()
    const unstarted: Array<{ at: number, backlog: number, oldest: number, monitors: number, cpu: number, buckets: Record<string, number>, targetCpu: number, xact: number }> = []
    const samples: Array<{ t: number, backlog: number, oldest: number }> = []
    let lastChecks = 0
    let lastAt = Date.now()
    process.stdout.write(`# ${opts.instances} instances (${KINDS.map(k => `${counts[k]} ${k}`).join(', ')}), ${opts.workers} workers × health concurrency ${opts.concurrency} (worker concurrency ${opts.workerConcurrency}), every ${opts.interval} s, timeout ${opts.timeout} s; ` +
      `warm-up until every monitor runs + ${opts.interval} s, then ${opts.rounds} intervals\n`)
    process.stdout.write(`# TLS target: PostgreSQL on 127.0.0.1:${tlsTarget.port}, ${tlsTarget.checked.tls_version} ${tlsTarget.checked.cipher}, certificate from the control plane's CA, password stored as ${tlsTarget.checked.password_stored_as}; probes verify it (sslmode=require)\n`)
    process.stdout.write('# health-check operations by state (engine.countLive): the backlog is due (timer passed, no run holds it) + pending (never run); oldest_due_s: how long ago the oldest of them was due\n')
    process.stdout.write('t_s   checks/s     due  oldest_due_s  pending  waiting  running  monitors\n')
    // Bounded even when the monitors never all start.
    const hardStop = t0 + (args.limit === undefined ? (opts.rounds + 6) * intervalMs + 300_000 : num(args.limit, 'limit') * 1000)
    while (Date.now() < Math.min(measureTo, hardStop)) {
      await new Promise(resolve => setTimeout(resolve, Math.max(0, Math.min(sampleMs, measureTo - Date.now()))))
      const { rows: [c] } = await pool.query<{ checks: number, oldest_due_s: number | null }>(
        `SELECT (SELECT count(*)::int FROM toygres.health_checks) AS checks,
           -- A due timer's age; or a pending monitor's, from the first due time housekeeping gave it (input.due_at, ms).
           (SELECT extract(epoch FROM now() - min(coalesce(wake_at, to_timestamp((input->>'due_at')::float8 / 1000))))::float8 FROM toygres.operations
            WHERE name = $1 AND lease IS NULL AND (status = 'running' AND wake_at <= now()
              OR status = 'pending' AND coalesce(wake_at, to_timestamp((input->>'due_at')::float8 / 1000)) <= now())) AS oldest_due_s`, [orchestrations.HEALTH_CHECK])
      const live = (await countLive(pool)).find(r => r.name === orchestrations.HEALTH_CHECK) ?? { pending: 0, due: 0, waiting: 0, running: 0 }
      const s = { checks: c!.checks, oldest: c!.oldest_due_s ?? 0, ...live, backlog: live.due + live.pending, monitors: live.pending + live.due + live.waiting + live.running }
      const now = Date.now()
      if (s.monitors >= opts.instances && measureFrom === Number.POSITIVE_INFINITY) {
        allRunningAt = now
        measureFrom = now + intervalMs
        measureTo = measureFrom + opts.rounds * intervalMs
        windowStart = setTimeout(() => {
          windowStarted = cpuNow('start').then(async c => { cpuFrom = c; bucketsFrom = bucketsNow; targetCpuFrom = await tlsTarget.cpuSeconds(); xactFrom = await xacts() })
        }, intervalMs)
      }
      const rate = (s.checks - lastChecks) / ((now - lastAt) / 1000)
      lastChecks = s.checks
      lastAt = now
      const measuring = now >= measureFrom
      if (measuring) { samples.push({ t: (now - measureFrom) / 1000, backlog: s.backlog, oldest: s.oldest }); samplesInWindow++ }
      // Until every monitor runs, each sample keeps the counters, in case the time limit comes first.
      if (!measuring) unstarted.push({ at: now, backlog: s.backlog, oldest: s.oldest, monitors: s.monitors, cpu: await cpuNow(), buckets: bucketsNow, targetCpu: await tlsTarget.cpuSeconds(), xact: await xacts() })
      process.stdout.write(`${((now - t0) / 1000).toFixed(0).padStart(4)}  ${rate.toFixed(1).padStart(8)}  ${String(s.due).padStart(6)}  ${s.oldest.toFixed(1).padStart(12)}  ${String(s.pending).padStart(7)}  ${String(s.waiting).padStart(7)}  ${String(s.running).padStart(7)}  ${String(s.monitors).padStart(8)}${measuring ? '' : '  (warm-up)'}\n`)
    }
    clearTimeout(windowStart)
    await windowStarted
    const allStarted = measureFrom <= Date.now()
    if (!allStarted) {
      // The time limit came before every monitor ran (and one interval more): measure the last --rounds intervals as they were.
      const end = Date.now()
      const first = unstarted.find(u => u.at >= end - opts.rounds * intervalMs) ?? unstarted.at(-1)
      if (!first) throw new Error('no sample before the time limit')
      measureFrom = first.at
      measureTo = end
      cpuFrom = first.cpu
      bucketsFrom = first.buckets
      targetCpuFrom = first.targetCpu
      xactFrom = first.xact
      for (const u of unstarted.filter(u => u.at >= first.at)) { samples.push({ t: (u.at - first.at) / 1000, backlog: u.backlog, oldest: u.oldest }); samplesInWindow++ }
      process.stdout.write(`# the time limit came before every monitor ran for an interval (${unstarted.at(-1)?.monitors ?? 0} of ${opts.instances} running): measuring the last ${round((end - first.at) / 1000, 0)} s as they were\n`)
    }
    const cpuTo = await cpuNow('stop')
    const bucketsTo = bucketsNow
    const targetCpuTo = await tlsTarget.cpuSeconds()
    const xactTo = await xacts()
    await admin.end()
    const from = new Date(measureFrom)
    const to = new Date(Math.min(measureTo, Date.now()))
    const windowS = (to.getTime() - from.getTime()) / 1000

    // Lateness, soon (a monitor that continues as new deletes its steps, which the split reads), but
    // not before every check that started in the window is recorded (a hanging target's ends at the
    // timeout): each check's start against its due time, and for the split, the `$sleep` step that
    // waited for that due time (output.wakeAt = due_at), whose finished_at is when a run picked it up.
    await new Promise(resolve => setTimeout(resolve, Math.max(0, to.getTime() + opts.timeout * 1000 + 2000 - Date.now())))
    const { rows: checks } = await pool.query<{ kind: Kind, ok: boolean, response_time_ms: number, late_ms: number | null, wait_ms: number | null, run_ms: number | null, gap_ms: number | null }>(
      `WITH h AS (
         SELECT instance_id, checked_at, due_at, ok, response_time_ms, checked_at - lag(checked_at) OVER (PARTITION BY instance_id ORDER BY checked_at) AS gap
         FROM toygres.health_checks WHERE checked_at < $2
       )
       SELECT split_part(i.name, '-', 1) AS kind, h.ok, h.response_time_ms,
         extract(epoch FROM h.checked_at - h.due_at)::float8 * 1000 AS late_ms,
         extract(epoch FROM s.finished_at - h.due_at)::float8 * 1000 AS wait_ms,
         extract(epoch FROM h.checked_at - s.finished_at)::float8 * 1000 AS run_ms,
         extract(epoch FROM h.gap)::float8 * 1000 AS gap_ms
       FROM h JOIN toygres.instances i ON i.id = h.instance_id
       LEFT JOIN LATERAL (
         SELECT st.finished_at FROM toygres.operation_steps st
         WHERE st.operation_id = i.health_operation_id AND st.name = '$sleep' AND st.status = 'succeeded'
           -- wakeAt may carry a fraction of a ms (the clock's offset); due_at went through a Date, which drops it.
           AND floor((st.output->>'wakeAt')::numeric) = extract(epoch FROM h.due_at) * 1000
         LIMIT 1) s ON h.due_at IS NOT NULL
       WHERE h.checked_at >= $1`, [from, to])
    // A check missing at the end shows as an open gap: from an instance's last check to the window's end.
    const { rows: open } = await pool.query<{ kind: Kind, open_gap_ms: number, unchecked: number }>(
      `SELECT split_part(i.name, '-', 1) AS kind, max(extract(epoch FROM $2::timestamptz - l.last) * 1000)::float8 AS open_gap_ms,
         count(*) FILTER (WHERE l.last IS NULL OR l.last < $1)::int AS unchecked
       FROM toygres.instances i LEFT JOIN LATERAL (SELECT max(checked_at) AS last FROM toygres.health_checks h WHERE h.instance_id = i.id AND h.checked_at < $2) l ON true
       GROUP BY 1`, [from, to])

    // The probe alone, in a fresh process, once the workers stopped.
    await stopAll(children, 15_000)
    // A probe's CPU does not depend on how long its target keeps it waiting, but a long wait lets the
    // process's own idle CPU swamp it: slow and hanging targets are calibrated with 100 ms waits (a
    // proxy that delays 100 ms in front of the same TLS server, a 100 ms timeout), many at once.
    const calibrationMs = 100
    const quickSlow = await slowProxy(upstream, calibrationMs)
    // A probe costs less CPU when many run at once (event-loop turns and system calls are shared): the
    // ok and refusing targets are probed as many at once as a worker had ok probes in flight on
    // average over the window (Little's law: their response times ÷ the window, per worker). The ok
    // probe, the bulk of the split, three times: on a shared machine one run's CPU per probe varies
    // by ±20 %; the median is used and the range shown. The workers' event loops also carry the
    // engine's traffic, which shares turns with the probes however few are in flight, so the ok probe
    // is also measured HIGH at once: the split were probes that cheap, a bound shown beside it.
    const HIGH = Math.min(opts.concurrency, 64)
    const okInFlight = checks.filter(c => c.kind === 'ok').reduce((sum, c) => sum + Number(c.response_time_ms), 0) / (windowS * 1000) / opts.workers
    const calibrationConcurrency = Math.max(1, Math.min(opts.concurrency, Math.round(okInFlight)))
    const runs: Calibration[] = [
      ...[1, 2, 3].map(() => ({ kind: 'ok' as const, target: targets.ok, password, probes: 200, concurrency: calibrationConcurrency, timeoutMs: opts.timeout * 1000 })),
      { kind: 'refuse', target: targets.refuse, password, probes: 300, concurrency: calibrationConcurrency, timeoutMs: opts.timeout * 1000 },
      ...[1, 2].map(() => ({ kind: 'ok' as const, bound: true, target: targets.ok, password, probes: 300, concurrency: HIGH, timeoutMs: opts.timeout * 1000 })),
      { kind: 'slow', target: tlsTarget.connectionStringAt(portOf(quickSlow)), password, probes: 200, concurrency: 25, timeoutMs: opts.timeout * 1000 },
      { kind: 'hang', target: targets.hang, password, probes: 200, concurrency: 25, timeoutMs: calibrationMs }
    ]
    const probe = spawn(process.execPath, [import.meta.filename, '--calibrate'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    children.push(probe)
    const calibrationRuns = await new Promise<CalibrationRun[]>((resolve, reject) => {
      probe.once('message', m => resolve(m as CalibrationRun[]))
      probe.once('exit', code => reject(new Error(`the calibrating process exited ${code}`)))
      probe.send({ runs, caPem: authority.certificatePem })
    })
    quickSlow.close()
    const calibration = Object.fromEntries(KINDS.map(kind => {
      const mine = calibrationRuns.filter(r => r.kind === kind && !r.bound)
      const cpu = mine.map(r => r.cpu_us_per_probe)
      return [kind, { cpu_us_per_probe: pct(cpu, 50), range: [Math.min(...cpu), Math.max(...cpu)], concurrency: mine[0]!.concurrency, runs: mine }]
    })) as Record<Kind, { cpu_us_per_probe: number, range: number[], concurrency: number, runs: CalibrationRun[] }>
    const loadAfter = load()

    const max = (xs: number[]): number => xs.length ? xs.reduce((a, b) => Math.max(a, b), -Infinity) : NaN
    const byKind = Object.fromEntries(KINDS.map(kind => {
      const mine = checks.filter(c => c.kind === kind)
      const num = (xs: Array<number | null>): number[] => xs.filter((x): x is number => x !== null).map(Number)
      const late = num(mine.map(c => c.late_ms))
      const wait = num(mine.map(c => c.wait_ms))
      const run = num(mine.map(c => c.run_ms))
      return [kind, {
        instances: counts[kind],
        checks: mine.length,
        failed: mine.filter(c => !c.ok).length,
        unattributed: mine.length - late.length,
        lateness_ms: { p50: round(pct(late, 50), 0), p99: round(pct(late, 99), 0), max: round(max(late), 0) },
        queue_wait_ms: { p50: round(pct(wait, 50), 0), p99: round(pct(wait, 99), 0), max: round(max(wait), 0) },
        run_to_probe_ms: { p50: round(pct(run, 50), 0), p99: round(pct(run, 99), 0), max: round(max(run), 0) },
        // Checks whose `$sleep` row was still there (not deleted by a continue-as-new) to split.
        split_coverage: round(late.length ? wait.length / late.length : NaN, 3),
        max_gap_ms: round(Math.max(0, open.find(o => o.kind === kind)?.open_gap_ms ?? 0, max(num(mine.map(c => c.gap_ms))) || 0), 0),
        unchecked_instances: open.find(o => o.kind === kind)?.unchecked ?? 0
      }]
    })) as Record<Kind, { instances: number, checks: number, failed: number, unattributed: number, lateness_ms: { p50: number, p99: number, max: number }, queue_wait_ms: { p50: number, p99: number, max: number }, run_to_probe_ms: { p50: number, p99: number, max: number }, split_coverage: number, max_gap_ms: number, unchecked_instances: number }>

    const totalChecks = checks.length
    const cpuPerCheck = (cpuTo - cpuFrom) / totalChecks
    // Our own sampling statements are XACTS_PER_SAMPLE transactions per sample; the rest is the workers'.
    const xactsPerCheck = (xactTo - xactFrom - XACTS_PER_SAMPLE * samplesInWindow) / totalChecks
    const idlePerCheck = idleCores * 1e6 * windowS / totalChecks
    const probePerCheck = KINDS.reduce((sum, k) => sum + byKind[k].checks * calibration[k].cpu_us_per_probe, 0) / totalChecks
    const okHigh = pct(calibrationRuns.filter(r => r.bound).map(r => r.cpu_us_per_probe), 50)
    const probeHighPerCheck = probePerCheck + byKind.ok.checks * (okHigh - calibration.ok.cpu_us_per_probe) / totalChecks
    // The TLS target's work: every ok and slow check is one login to it.
    const targetCpuS = targetCpuTo - targetCpuFrom
    const logins = byKind.ok.checks + byKind.slow.checks
    // The app's own lateness histogram over the window, all kinds: observations at or under each bound.
    const appCount = (bucketsTo['+Inf'] ?? 0) - (bucketsFrom['+Inf'] ?? 0)
    const appLateness = Object.fromEntries(Object.keys(bucketsTo).filter(le => le !== '+Inf').sort((a, b) => Number(a) - Number(b)).map(le =>
      [`le_${le}s`, round(((bucketsTo[le] ?? 0) - (bucketsFrom[le] ?? 0)) / appCount, 3)]))
    const backlog = samples.map(s => s.backlog)
    const backlogSlope = slope(samples.map(s => s.t / 60), backlog)
    const ok = byKind.ok
    const required = opts.instances / opts.interval
    const verdict = {
      no_ok_check_an_interval_late: ok.lateness_ms.max < intervalMs && ok.max_gap_ms < 2 * intervalMs && ok.unchecked_instances === 0,
      ok_p99_lateness_under_2s: ok.lateness_ms.p99 < 2000,
      // Growth over the window (trend × minutes) within noise: 10 operations or 1 % of the instances. The
      // backlog cannot exceed one operation per instance: one that holds half of them is saturated, not steady.
      backlog_not_growing: !(backlogSlope * windowS / 60 > Math.max(10, opts.instances / 100)) && max(backlog) < opts.instances / 2,
      checks_per_s_as_required: totalChecks / windowS >= 0.98 * required,
      every_monitor_started_in_time: allStarted,
      // The planned --rounds intervals, not one cut short by --limit.
      full_window: windowS >= 0.98 * opts.rounds * opts.interval
    }
    const summary = {
      bench: 'health',
      database: database.server,
      instances: opts.instances,
      targets: counts,
      tls_target: tlsTarget.checked,
      workers: opts.workers,
      health_concurrency: opts.concurrency,
      worker_concurrency: opts.workerConcurrency,
      interval_s: opts.interval,
      timeout_s: opts.timeout,
      rounds: opts.rounds,
      window_s: round(windowS, 1),
      monitors_all_started: allStarted,
      // From the workers' start until a sample saw a monitor for every instance.
      monitors_running_after_s: allRunningAt === undefined ? null : round((allRunningAt - t0) / 1000, 0),
      load_average: { before: loadBefore, after: loadAfter },
      required_checks_per_s: round(required, 1),
      achieved_checks_per_s: round(totalChecks / windowS, 1),
      by_kind: byKind,
      app_lateness_histogram: { observations: appCount, share: appLateness },
      db_transactions_per_check: round(xactsPerCheck, 2),
      backlog: { first: backlog[0], last: backlog.at(-1), max: max(backlog), slope_per_min: round(backlogSlope, 1), oldest_due_s_max: round(max(samples.map(s => s.oldest)), 1), samples: backlog },
      cpu_us_per_check: {
        total: round(cpuPerCheck, 0),
        probe: round(probePerCheck, 0),
        rest_engine: round(cpuPerCheck - probePerCheck, 0),
        // The same split with the ok probe at its cost when HIGH run at once.
        high_concurrency_bound: { ok_probes_at_once: HIGH, ok_cpu_us_per_probe: round(okHigh, 0), probe: round(probeHighPerCheck, 0), rest_engine: round(cpuPerCheck - probeHighPerCheck, 0) },
        of_which_idle_cost: round(idlePerCheck, 0),
        worker_cores_busy: round((cpuTo - cpuFrom) / 1e6 / windowS, 2),
        worker_cores_idle: round(idleCores, 3)
      },
      tls_target_cpu: { cores_busy: round(targetCpuS / windowS, 2), us_per_login: round(targetCpuS * 1e6 / logins, 0) },
      probe_calibration: calibration,
      ...(profiles.length ? { worker_profile: merge(profiles) } : {}),
      ...(statementCounts.size
        ? {
            statements_per_check: Object.fromEntries([...statementCounts].sort((a, b) => b[1] - a[1]).slice(0, 25).map(([k, n]) => [k, round(n / totalChecks, 3)])),
            statements_per_check_total: round([...statementCounts].filter(([k]) => !k.startsWith('[target]')).reduce((sum, [, n]) => sum + n, 0) / totalChecks, 2)
          }
        : {}),
      goal: verdict,
      keeps_up: Object.values(verdict).every(Boolean)
    }

    const ms = (x: { p50: number, p99: number }): string => `${x.p50} / ${x.p99}`
    process.stdout.write(`\nbench:health — database: ${database.server}; ${opts.instances} instances, ${opts.workers} workers × ${opts.concurrency} health checks at once, every ${opts.interval} s, ${round(windowS, 0)} s measured; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
    process.stdout.write(table(['target kind', 'instances', 'checks', 'failed', 'late p50 ms', 'p99', 'max', 'queue wait p50/p99', 'run→probe p50/p99', 'split of', 'max gap ms', 'unchecked'],
      KINDS.map(k => {
        const b = byKind[k]
        return [k, b.instances, b.checks, b.failed, b.lateness_ms.p50, b.lateness_ms.p99, b.lateness_ms.max, ms(b.queue_wait_ms), ms(b.run_to_probe_ms), `${Math.round(100 * b.split_coverage)} %`, b.max_gap_ms, b.unchecked_instances]
      })))
    process.stdout.write(table(['CPU per check (worker processes), µs', 'value'], [
      ['total (process.cpuUsage over the window ÷ checks)', summary.cpu_us_per_check.total],
      ['  the probe itself (connect, TLS, SCRAM, SELECT 1)', summary.cpu_us_per_check.probe],
      ['  the rest: engine, pg-boss, activity queries, metrics', summary.cpu_us_per_check.rest_engine],
      ['    of which the workers\' idle cost, spread over the checks', summary.cpu_us_per_check.of_which_idle_cost],
      [`  were ok probes as cheap as ${HIGH} at once (${round(okHigh, 0)} each): probe`, summary.cpu_us_per_check.high_concurrency_bound.probe],
      ['    and the rest', summary.cpu_us_per_check.high_concurrency_bound.rest_engine],
      ['worker cores busy on average (all workers)', summary.cpu_us_per_check.worker_cores_busy],
      ['  idle, before any instance existed', summary.cpu_us_per_check.worker_cores_idle]
    ]))
    if (summary.worker_profile) {
      const p = summary.worker_profile
      process.stdout.write(`worker CPU profile over the window (self time, ${p.busy_ms} ms busy): ${p.by_area.map(a => `${a.area} ${Math.round(100 * a.share)} %`).join(', ')}\n`)
      process.stdout.write(`  by who asked (nearest frame outside Node and the pg driver): ${p.by_owner.map(a => `${a.owner} ${Math.round(100 * a.share)} %`).join(', ')}\n`)
      process.stdout.write(`  top functions (← their main caller): ${p.top_functions.slice(0, 8).map(f => `${f.fn} ${Math.round(100 * f.share)} %${f.caller ? ` ← ${f.caller}` : ''}`).join('; ')}\n`)
      process.stdout.write(`  raw profiles: ${Array.from({ length: opts.workers }, (_w, i) => join(tmpdir(), `toygres-bench-health-worker-${i}.cpuprofile`)).join(', ')}\n`)
    }
    if (summary.statements_per_check) {
      process.stdout.write(`statements the workers sent to the database per check: ${summary.statements_per_check_total} (pg.Client#query calls, by name or text; [target]: the probes'):\n`)
      for (const [k, n] of Object.entries(summary.statements_per_check).slice(0, 15)) process.stdout.write(`  ${String(n).padStart(6)}  ${k}\n`)
    }
    process.stdout.write(`probe alone, CPU µs per probe by kind: ${KINDS.map(k => `${k} ${calibration[k].cpu_us_per_probe}${calibration[k].runs.length > 1 ? ` (${calibration[k].range.map(Math.round).join('–')} in ${calibration[k].runs.length} runs)` : ''}`).join(', ')}; ` +
      `ok and refuse ${calibration.ok.concurrency} at once (the ok probes a worker had in flight on average: ${round(okInFlight, 1)})\n`)
    process.stdout.write(`TLS target server (not the control plane's cost; it shares this machine): ${summary.tls_target_cpu.cores_busy} cores busy, ${summary.tls_target_cpu.us_per_login} µs per login (ok and slow checks)\n`)
    process.stdout.write(`the workers' toygres_health_check_lateness_seconds over the window (all kinds): ${appCount} observations; ${Object.entries(appLateness).filter(([le]) => ['le_0.1s', 'le_1s', 'le_2s', 'le_5s', 'le_30s'].includes(le)).map(([le, share]) => `${le.replace(/^le_/, '≤ ')} ${round(100 * share, 1)} %`).join(', ')}\n`)
    process.stdout.write(`database transactions per check (pg_stat_database.xact_commit over the window, ±1 s of publishing lag): ${summary.db_transactions_per_check}\n`)
    process.stdout.write(`backlog (health-check operations due or pending, no run holding them): first ${summary.backlog.first}, last ${summary.backlog.last}, max ${summary.backlog.max}, trend ${summary.backlog.slope_per_min}/min; the oldest was due up to ${summary.backlog.oldest_due_s_max} s before\n`)
    process.stdout.write(`\nheadline: ok targets' lateness p50 ${ok.lateness_ms.p50} ms, p99 ${ok.lateness_ms.p99} ms, max ${ok.lateness_ms.max} ms (queue wait p50/p99 ${ms(ok.queue_wait_ms)}, run→probe ${ms(ok.run_to_probe_ms)}; goal: p99 < 2000, max < ${intervalMs}, gaps < ${2 * intervalMs}; max gap ${ok.max_gap_ms}); ` +
      `${summary.achieved_checks_per_s} of ${summary.required_checks_per_s} checks/s; backlog ${summary.backlog.first} → ${summary.backlog.last} (max ${summary.backlog.max}), trend ${summary.backlog.slope_per_min}/min; ` +
      `CPU ${summary.cpu_us_per_check.total} µs per check = probe ${summary.cpu_us_per_check.probe} (alone: ok ${Math.round(calibration.ok.cpu_us_per_probe)}, ${calibration.ok.range.map(Math.round).join('–')}) + the rest ${summary.cpu_us_per_check.rest_engine} (ok probes as cheap as ${HIGH} at once: ${summary.cpu_us_per_check.high_concurrency_bound.probe} + ${summary.cpu_us_per_check.high_concurrency_bound.rest_engine}); ${summary.db_transactions_per_check} transactions per check; keeps up: ${summary.keeps_up}\n`)
    process.stdout.write(JSON.stringify(summary) + '\n')
  } finally {
    await stopAll(children, 15_000)
    await pool.end()
    for (const close of closers.reverse()) await close()
    await database.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--worker') {
  await worker(JSON.parse(process.argv[3]!) as WorkerSpec)
} else if (process.argv[2] === '--calibrate') {
  await calibrator()
} else {
  await main()
}
