// npm run bench:health -- [flags]
//
// Can --workers worker processes keep --instances running instances checked
// every --interval seconds when some targets misbehave? Each worker is a
// separate process running the real plugins (engine, health-check
// orchestration per instance, check-health activity, housekeeping that
// starts the monitors) with a stand-in provisioner (nothing to provision or
// restart: auto-restart is off). The targets, all on loopback:
//   ok       this benchmark's PostgreSQL server: a real connect + SELECT 1
//   slow     --slow of them: a TCP proxy in front of that server that holds
//            the first byte back for 2 s (the check succeeds after ~2 s)
//   refuse   --refuse of them: a closed port (ECONNREFUSED at once)
//   hang     --hang of them: accepts TCP and never answers (the check times
//            out after TOYGRES_HEALTH_TIMEOUT_SECONDS, --timeout)
// Connection strings carry no sslmode: TLS is preferred, unverified (the
// local server has none, so each worker learns once to go plain).
//
// After the reconciler has started every monitor and one more interval, it
// measures --rounds intervals:
//   lateness    per check: when the probe started minus when it was due (the
//               timer's start_after in pgboss.job). The headline is the ok
//               targets' p50/p99/max; split into queue wait (due → picked up)
//               and run (picked up → probe started).
//   gap         the longest time between two checks of one instance, or from
//               its last check to the window's end (a missed check shows).
//   unchecked   instances of a kind with no check at all in the window.
//   backlog     the health queue's ready jobs (due, not yet picked up),
//               sampled; its trend is a least-squares slope, jobs/min; it
//               counts as growing when trend × window > max(10, 1 % of instances),
//               and as saturated (not steady) when it ever holds half the instances.
//   xacts       transactions committed in the benchmark's database per check
//               (pg_stat_database.xact_commit over the window: busy backends
//               publish about once a second, so ±1 s of traffic).
//   CPU         per check, of the worker processes (process.cpuUsage over the
//               window ÷ checks done in it), split into the probe itself
//               (connect, TLS negotiation, auth, SELECT 1) and the rest (the
//               engine, pg-boss, the activities' two queries): the probe's
//               share is measured right after the window in a worker process
//               whose app is closed, running the same checkHealth() on each
//               kind of target (CPU per probe, by
//               kind, the process's idle CPU subtracted; slow and hanging
//               targets with 100 ms instead of 2 s / 5 s waits, so the idle
//               CPU of a long wait does not swamp the probe's), weighted by the
//               kinds' checks in the window. The workers' idle CPU (measured
//               for 5 s before any instance exists) is shown as part of the rest.
// The goal it reports against (for ok targets): no check more than one
// interval late, p99 lateness < 2 s, a backlog that does not grow.
//
// Flags:
//   --instances <n>     running instances to monitor (default 1000)
//   --workers <n>       worker processes (default 2)
//   --interval <s>      TOYGRES_HEALTH_INTERVAL_SECONDS (default 30)
//   --rounds <n>        intervals measured (default 3)
//   --concurrency <n>   TOYGRES_WORKER_CONCURRENCY of each worker (default 8)
//   --timeout <s>       TOYGRES_HEALTH_TIMEOUT_SECONDS (default 5)
//   --slow <f>          share of slow targets (default 0.05)
//   --refuse <f>        share of refusing targets (default 0.05)
//   --hang <f>          share of hanging targets (default 0.05)
//   --limit <s>         stop after this long even when not every monitor has
//                       started yet, and measure the last --rounds intervals as
//                       they were (default (rounds + 6) × interval + 300)
//   --profile           sample the workers' CPU over the window (V8 profiler,
//                       1 ms) and print where the time went, by package / src
//                       folder and by function (adds a little CPU of its own)
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
import { cli, load, num, pct, round, table } from './lib/cli.ts'
import { benchDatabase } from './lib/database.ts'
import { merge, startProfiling, type ProfileSummary } from './lib/profile.ts'

const KINDS = ['ok', 'slow', 'refuse', 'hang'] as const
type Kind = typeof KINDS[number]
const SLOW_MS = 2000
const IDLE_MS = 5000

// ---------------------------------------------------------------- worker ---

interface WorkerSpec { url: string, key: string, dataDir: string, concurrency: number, interval: number, timeout: number }
interface Calibration { kind: Kind, target: string, password: string, probes: number, concurrency: number, timeoutMs: number }
type Ask = { cmd: 'cpu', profile?: 'start' | 'stop' } | { cmd: 'calibrate', runs: Calibration[] }
type Request = Ask & { id: number }

async function worker (spec: WorkerSpec): Promise<void> {
  const config = loadConfig({
    LOG_LEVEL: 'error',
    DATABASE_URL: spec.url,
    TOYGRES_SECRET_KEY: spec.key,
    TOYGRES_DATA_DIR: spec.dataDir,
    TOYGRES_WORKER_CONCURRENCY: String(spec.concurrency),
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
  await app.register(orchestrationsPlugin)
  await app.register(housekeeping)
  await app.ready()

  let stopProfiling: (() => Promise<ProfileSummary>) | undefined
  process.on('message', (msg: Request) => {
    void (async () => {
      if (msg.cmd === 'cpu') {
        const cpu = process.cpuUsage()
        if (msg.profile === 'start') stopProfiling = await startProfiling()
        const profile = msg.profile === 'stop' && stopProfiling ? await stopProfiling() : undefined
        return process.send!({ id: msg.id, cpu, profile })
      }
      // The probe alone: the app (engine, pg-boss, housekeeping) closed first, so only probes run.
      await app.close()
      // Warm-up, unmeasured: whatever closing the app left to collect or compile, and each target's
      // first login (which learns that the server has no TLS).
      for (const run of msg.runs) for (let i = 0; i < 10; i++) await checkHealth({ connection_string: run.target, password: run.password, ca_pem: null, timeout_ms: run.timeoutMs }, new AbortController().signal)
      // What the process burns doing nothing (timers, GC), per ms: subtracted from each run.
      const idle0 = process.cpuUsage()
      const idleT0 = performance.now()
      await new Promise(resolve => setTimeout(resolve, 2000))
      const idleCpu = process.cpuUsage(idle0)
      const idlePerMs = (idleCpu.user + idleCpu.system) / (performance.now() - idleT0)
      const out: Record<string, { probes: number, cpu_us_per_probe: number, idle_us_subtracted_per_probe: number, wall_ms_p50: number, ok: number }> = {}
      for (const run of msg.runs) {
        const walls: number[] = []
        let ok = 0
        let next = 0
        const cpu0 = process.cpuUsage()
        const t0 = performance.now()
        await Promise.all(Array.from({ length: run.concurrency }, async () => {
          while (next++ < run.probes) {
            const r = await checkHealth({ connection_string: run.target, password: run.password, ca_pem: null, timeout_ms: run.timeoutMs }, new AbortController().signal)
            walls.push(r.response_time_ms)
            if (r.ok) ok++
          }
        }))
        const cpu = process.cpuUsage(cpu0)
        const idle = idlePerMs * (performance.now() - t0)
        out[run.kind] = {
          probes: run.probes,
          cpu_us_per_probe: round(Math.max(0, cpu.user + cpu.system - idle) / run.probes, 1),
          idle_us_subtracted_per_probe: round(idle / run.probes, 1),
          wall_ms_p50: round(pct(walls, 50), 1),
          ok
        }
      }
      process.send!({ id: msg.id, calibration: out })
    })()
  })
  process.once('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
  // A benchmark that died without stopping us must not leave us running.
  process.once('disconnect', () => process.exit(1))
  process.send!({ ready: true })
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
    concurrency: { type: 'string', default: '8' },
    timeout: { type: 'string', default: '5' },
    slow: { type: 'string', default: '0.05' },
    refuse: { type: 'string', default: '0.05' },
    hang: { type: 'string', default: '0.05' },
    profile: { type: 'boolean', default: false },
    limit: { type: 'string' }
  })
  const opts = {
    instances: num(args.instances, 'instances'),
    workers: num(args.workers, 'workers'),
    interval: num(args.interval, 'interval'),
    rounds: num(args.rounds, 'rounds'),
    concurrency: num(args.concurrency, 'concurrency'),
    timeout: num(args.timeout, 'timeout')
  }
  const shares: Record<Kind, number> = { ok: 0, slow: num(args.slow, 'slow'), refuse: num(args.refuse, 'refuse'), hang: num(args.hang, 'hang') }
  const counts: Record<Kind, number> = { ok: 0, slow: Math.round(opts.instances * shares.slow), refuse: Math.round(opts.instances * shares.refuse), hang: Math.round(opts.instances * shares.hang) }
  counts.ok = opts.instances - counts.slow - counts.refuse - counts.hang
  if (counts.ok <= 0) throw new Error('no ok targets left: lower --slow, --refuse or --hang')
  const QUEUE = queueName(orchestrations.HEALTH_CHECK)
  const intervalMs = opts.interval * 1000

  const database = await benchDatabase()
  const key = randomBytes(32).toString('hex')
  const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-health-'))
  const pool = new pg.Pool({ connectionString: database.url, max: 4 })
  const children: ChildProcess[] = []
  const server = new URL(database.url)
  const upstream = { host: server.hostname, port: Number(server.port || 5432) }
  const slow = await slowProxy(upstream, SLOW_MS)
  const hang = await hangingServer()
  const refused = await closedPort()
  const user = decodeURIComponent(server.username) || 'postgres'
  const password = decodeURIComponent(server.password)
  const targets: Record<Kind, string> = {
    ok: `postgresql://${user}@${upstream.host}:${upstream.port}/postgres`,
    slow: `postgresql://${user}@127.0.0.1:${portOf(slow)}/postgres`,
    refuse: `postgresql://${user}@127.0.0.1:${refused}/postgres`,
    hang: `postgresql://${user}@127.0.0.1:${portOf(hang)}/postgres`
  }
  const loadBefore = load()
  try {
    await migrate(database.url, pino({ level: 'silent' }))
    // Workers, one request at a time each over IPC.
    const pending = new Map<number, (reply: Record<string, unknown>) => void>()
    let nextId = 0
    const ask = (child: ChildProcess, req: Ask): Promise<Record<string, unknown>> => new Promise(resolve => {
      const id = nextId++
      pending.set(id, resolve)
      child.send({ ...req, id })
    })
    const t0 = Date.now()
    const spec: WorkerSpec = { url: database.url, key, dataDir, concurrency: opts.concurrency, interval: opts.interval, timeout: opts.timeout }
    for (let i = 0; i < opts.workers; i++) {
      const child = spawn(process.execPath, [import.meta.filename, '--worker', JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      children.push(child)
      child.on('message', (m: { id?: number }) => { if (m.id !== undefined) { pending.get(m.id)?.(m as Record<string, unknown>); pending.delete(m.id) } })
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve())
        child.once('exit', code => reject(new Error(`worker exited ${code}`)))
      })
    }
    const profiles: ProfileSummary[] = []
    const admin = new pg.Client({ connectionString: database.adminUrl })
    await admin.connect()
    const xacts = async (): Promise<number> => {
      await admin.query('SELECT pg_stat_clear_snapshot()')
      const { rows: [r] } = await admin.query<{ c: string }>('SELECT xact_commit::text AS c FROM pg_stat_database WHERE datname = $1', [database.name])
      return Number(r!.c)
    }
    let xactFrom = 0
    let samplesInWindow = 0
    const cpuNow = async (profile?: 'start' | 'stop'): Promise<number> => {
      const all = await Promise.all(children.map(c => ask(c, { cmd: 'cpu', ...(args.profile && profile ? { profile } : {}) })))
      for (const r of all) if (r.profile) profiles.push(r.profile as ProfileSummary)
      return all.reduce((sum, r) => { const cpu = r.cpu as NodeJS.CpuUsage; return sum + cpu.user + cpu.system }, 0)
    }

    // The workers' idle cost (no instances yet: pg-boss polling and supervision, housekeeping).
    const idleCpu0 = await cpuNow()
    const idleT0 = Date.now()
    await new Promise(resolve => setTimeout(resolve, IDLE_MS))
    const idleCores = (await cpuNow() - idleCpu0) / 1000 / (Date.now() - idleT0)
    // Then the instances: housekeeping's next pass (within one interval) starts their monitors.
    const sealed = createSecretBox(Buffer.from(key, 'hex')).encrypt(password)
    for (const kind of KINDS) {
      await pool.query(
        `INSERT INTO toygres.instances (id, name, namespace, state, postgres_version, storage_size_gb, use_load_balancer, password_ciphertext, ip_connection_string)
         SELECT gen_random_uuid(), $4 || '-' || g, 'toygres', 'running', '18', 1, false, $2, $3 FROM generate_series(1, $1::int) g`,
        [counts[kind], sealed, targets[kind], kind])
    }

    const sampleMs = Math.max(1000, intervalMs / 6)
    let measureFrom = Number.POSITIVE_INFINITY
    let measureTo = Number.POSITIVE_INFINITY
    let cpuFrom = 0
    let windowStart: NodeJS.Timeout | undefined
    let windowStarted: Promise<void> = Promise.resolve()
    const unstarted: Array<{ at: number, ready: number, monitors: number, cpu: number, xact: number }> = []
    const samples: Array<{ t: number, ready: number }> = []
    let lastChecks = 0
    let lastAt = Date.now()
    process.stdout.write(`# ${opts.instances} instances (${KINDS.map(k => `${counts[k]} ${k}`).join(', ')}), ${opts.workers} workers × concurrency ${opts.concurrency}, every ${opts.interval} s, timeout ${opts.timeout} s; ` +
      `warm-up until every monitor runs + ${opts.interval} s, then ${opts.rounds} intervals\n`)
    process.stdout.write('t_s   checks/s  queue_ready  queue_deferred  queue_active  monitors\n')
    // Bounded even when the monitors never all start.
    const hardStop = t0 + (args.limit === undefined ? (opts.rounds + 6) * intervalMs + 300_000 : num(args.limit, 'limit') * 1000)
    while (Date.now() < Math.min(measureTo, hardStop)) {
      await new Promise(resolve => setTimeout(resolve, Math.max(0, Math.min(sampleMs, measureTo - Date.now()))))
      const { rows: [s] } = await pool.query(
        `SELECT (SELECT count(*)::int FROM toygres.health_checks) AS checks,
           (SELECT count(*)::int FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry') AND start_after <= now()) AS ready,
           (SELECT count(*)::int FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry') AND start_after > now()) AS deferred,
           (SELECT count(*)::int FROM pgboss.job WHERE name = $1 AND state = 'active') AS active,
           (SELECT count(*)::int FROM toygres.operations WHERE name = $2 AND status IN ('pending', 'running')) AS monitors`,
        [QUEUE, orchestrations.HEALTH_CHECK])
      const now = Date.now()
      if (s.monitors >= opts.instances && measureFrom === Number.POSITIVE_INFINITY) {
        measureFrom = now + intervalMs
        measureTo = measureFrom + opts.rounds * intervalMs
        windowStart = setTimeout(() => { windowStarted = cpuNow('start').then(async c => { cpuFrom = c; xactFrom = await xacts() }) }, intervalMs)
      }
      const rate = (s.checks - lastChecks) / ((now - lastAt) / 1000)
      lastChecks = s.checks
      lastAt = now
      const measuring = now >= measureFrom
      if (measuring) { samples.push({ t: (now - measureFrom) / 1000, ready: s.ready }); samplesInWindow++ }
      // Until every monitor runs, each sample keeps the counters, in case the time limit comes first.
      if (!measuring) unstarted.push({ at: now, ready: s.ready, monitors: s.monitors, cpu: await cpuNow(), xact: await xacts() })
      process.stdout.write(`${((now - t0) / 1000).toFixed(0).padStart(4)}  ${rate.toFixed(1).padStart(8)}  ${String(s.ready).padStart(11)}  ${String(s.deferred).padStart(14)}  ${String(s.active).padStart(12)}  ${String(s.monitors).padStart(8)}${measuring ? '' : '  (warm-up)'}\n`)
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
      xactFrom = first.xact
      for (const u of unstarted.filter(u => u.at >= first.at)) { samples.push({ t: (u.at - first.at) / 1000, ready: u.ready }); samplesInWindow++ }
      process.stdout.write(`# the time limit came before every monitor ran for an interval (${unstarted.at(-1)?.monitors ?? 0} of ${opts.instances} running): measuring the last ${round((end - first.at) / 1000, 0)} s as they were\n`)
    }
    const cpuTo = await cpuNow('stop')
    const xactTo = await xacts()
    await admin.end()
    const from = new Date(measureFrom)
    const to = new Date(Math.min(measureTo, Date.now()))
    const windowS = (to.getTime() - from.getTime()) / 1000

    // The probe alone, in one worker process with its app closed; the others stop.
    const calibrator = children[0]!
    // A probe's CPU does not depend on how long its target keeps it waiting, but a long wait lets the
    // process's own idle CPU swamp it: slow and hanging targets are calibrated with 100 ms waits (a
    // proxy that delays 100 ms, a 100 ms timeout), many at once.
    const calibrationMs = 100
    const quickSlow = await slowProxy(upstream, calibrationMs)
    const runs: Calibration[] = [
      { kind: 'ok', target: targets.ok, password, probes: 300, concurrency: opts.concurrency, timeoutMs: opts.timeout * 1000 },
      { kind: 'refuse', target: targets.refuse, password, probes: 300, concurrency: opts.concurrency, timeoutMs: opts.timeout * 1000 },
      { kind: 'slow', target: `postgresql://${user}@127.0.0.1:${portOf(quickSlow)}/postgres`, password, probes: 200, concurrency: 25, timeoutMs: opts.timeout * 1000 },
      { kind: 'hang', target: targets.hang, password, probes: 200, concurrency: 25, timeoutMs: calibrationMs }
    ]
    const calibrated = await ask(calibrator, { cmd: 'calibrate', runs })
    quickSlow.close()
    const calibration = calibrated.calibration as Record<Kind, { probes: number, cpu_us_per_probe: number, idle_us_subtracted_per_probe: number, wall_ms_p50: number, ok: number }>
    const loadAfter = load()

    // Lateness: each check against the timer that woke it. Per monitor, the events in time order: a
    // job's start_after (a due time; its started_on is the pick-up) and the checks; each check belongs
    // to the latest job before it. A check is never before its due, and the next due is set after it.
    const { rows: checks } = await pool.query<{ kind: Kind, ok: boolean, late_ms: number | null, wait_ms: number | null, run_ms: number | null, gap_ms: number | null }>(
      `WITH ev AS (
         SELECT (j.data->>'operationId')::uuid AS op, j.start_after AS t, 0 AS ord, j.started_on, NULL::uuid AS instance_id, NULL::boolean AS ok
           FROM pgboss.job j WHERE j.name = $3
         UNION ALL
         SELECT i.health_operation_id, h.checked_at, 1, NULL, h.instance_id, h.ok
           FROM toygres.health_checks h JOIN toygres.instances i ON i.id = h.instance_id
       ), grouped AS (
         SELECT *, count(*) FILTER (WHERE ord = 0) OVER (PARTITION BY op ORDER BY t, ord ROWS UNBOUNDED PRECEDING) AS grp FROM ev
       ), paired AS (
         SELECT *, max(t) FILTER (WHERE ord = 0) OVER (PARTITION BY op, grp) AS due, max(started_on) FILTER (WHERE ord = 0) OVER (PARTITION BY op, grp) AS picked,
           t - lag(t) OVER (PARTITION BY instance_id ORDER BY t) AS gap
         FROM grouped
       )
       SELECT split_part(i.name, '-', 1) AS kind, p.ok,
         extract(epoch FROM p.t - p.due) * 1000 AS late_ms,
         extract(epoch FROM p.picked - p.due) * 1000 AS wait_ms,
         extract(epoch FROM p.t - p.picked) * 1000 AS run_ms,
         extract(epoch FROM p.gap) * 1000 AS gap_ms
       FROM paired p JOIN toygres.instances i ON i.id = p.instance_id
       WHERE p.ord = 1 AND p.t >= $1 AND p.t < $2`, [from, to, QUEUE])
    // A check missing at the end shows as an open gap: from an instance's last check to the window's end.
    const { rows: open } = await pool.query<{ kind: Kind, open_gap_ms: number, unchecked: number }>(
      `SELECT split_part(i.name, '-', 1) AS kind, max(extract(epoch FROM $2::timestamptz - l.last) * 1000)::float8 AS open_gap_ms,
         count(*) FILTER (WHERE l.last IS NULL OR l.last < $1)::int AS unchecked
       FROM toygres.instances i LEFT JOIN LATERAL (SELECT max(checked_at) AS last FROM toygres.health_checks h WHERE h.instance_id = i.id AND h.checked_at < $2) l ON true
       GROUP BY 1`, [from, to])

    const byKind = Object.fromEntries(KINDS.map(kind => {
      const mine = checks.filter(c => c.kind === kind)
      const num = (xs: Array<number | null>): number[] => xs.filter((x): x is number => x !== null).map(Number)
      const late = num(mine.map(c => c.late_ms))
      return [kind, {
        instances: counts[kind],
        checks: mine.length,
        failed: mine.filter(c => !c.ok).length,
        unattributed: mine.length - late.length,
        lateness_ms: { p50: round(pct(late, 50), 0), p99: round(pct(late, 99), 0), max: round(late.length ? Math.max(...late) : NaN, 0) },
        queue_wait_ms: { p50: round(pct(num(mine.map(c => c.wait_ms)), 50), 0), p99: round(pct(num(mine.map(c => c.wait_ms)), 99), 0) },
        run_to_probe_ms: { p50: round(pct(num(mine.map(c => c.run_ms)), 50), 0), p99: round(pct(num(mine.map(c => c.run_ms)), 99), 0) },
        max_gap_ms: round(Math.max(0, open.find(o => o.kind === kind)?.open_gap_ms ?? 0, ...num(mine.map(c => c.gap_ms))), 0),
        unchecked_instances: open.find(o => o.kind === kind)?.unchecked ?? 0
      }]
    })) as Record<Kind, { instances: number, checks: number, failed: number, unattributed: number, lateness_ms: { p50: number, p99: number, max: number }, queue_wait_ms: { p50: number, p99: number }, run_to_probe_ms: { p50: number, p99: number }, max_gap_ms: number, unchecked_instances: number }>

    const totalChecks = checks.length
    const cpuPerCheck = (cpuTo - cpuFrom) / totalChecks
    // Our own sampling query is one transaction per sample; the rest is the workers'.
    const xactsPerCheck = (xactTo - xactFrom - samplesInWindow) / totalChecks
    const idlePerCheck = idleCores * 1e6 * windowS / totalChecks
    const probePerCheck = KINDS.reduce((sum, k) => sum + byKind[k].checks * calibration[k].cpu_us_per_probe, 0) / totalChecks
    const ready = samples.map(s => s.ready)
    const backlogSlope = slope(samples.map(s => s.t / 60), ready)
    const ok = byKind.ok
    const required = opts.instances / opts.interval
    const verdict = {
      no_ok_check_an_interval_late: ok.lateness_ms.max < intervalMs && ok.max_gap_ms < 2 * intervalMs,
      ok_p99_lateness_under_2s: ok.lateness_ms.p99 < 2000,
      // Growth over the window (trend × minutes) within noise: 10 jobs or 1 % of the instances. The
      // backlog cannot exceed one job per instance: one that holds half of them is saturated, not steady.
      backlog_not_growing: !(backlogSlope * windowS / 60 > Math.max(10, opts.instances / 100)) && Math.max(...ready) < opts.instances / 2,
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
      workers: opts.workers,
      concurrency: opts.concurrency,
      interval_s: opts.interval,
      timeout_s: opts.timeout,
      rounds: opts.rounds,
      window_s: round(windowS, 1),
      monitors_all_started: allStarted,
      load_average: { before: loadBefore, after: loadAfter },
      required_checks_per_s: round(required, 1),
      achieved_checks_per_s: round(totalChecks / windowS, 1),
      by_kind: byKind,
      db_transactions_per_check: round(xactsPerCheck, 1),
      backlog: { ready_first: ready[0], ready_last: ready.at(-1), ready_max: Math.max(...ready), slope_jobs_per_min: round(backlogSlope, 1), samples: ready },
      cpu_us_per_check: {
        total: round(cpuPerCheck, 0),
        probe: round(probePerCheck, 0),
        rest_engine: round(cpuPerCheck - probePerCheck, 0),
        of_which_idle_cost: round(idlePerCheck, 0),
        worker_cores_busy: round((cpuTo - cpuFrom) / 1e6 / windowS, 2),
        worker_cores_idle: round(idleCores, 3)
      },
      probe_calibration: calibration,
      ...(profiles.length ? { worker_profile: merge(profiles) } : {}),
      goal: verdict,
      keeps_up: Object.values(verdict).every(Boolean)
    }

    process.stdout.write(`\nbench:health — database: ${database.server}; ${opts.instances} instances, ${opts.workers} workers × ${opts.concurrency}, every ${opts.interval} s, ${round(windowS, 0)} s measured; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
    process.stdout.write(table(['target kind', 'instances', 'checks', 'failed', 'late p50 ms', 'p99', 'max', 'queue wait p50/p99', 'run→probe p50/p99', 'max gap ms', 'unchecked'],
      KINDS.map(k => {
        const b = byKind[k]
        return [k, b.instances, b.checks, b.failed, b.lateness_ms.p50, b.lateness_ms.p99, b.lateness_ms.max, `${b.queue_wait_ms.p50} / ${b.queue_wait_ms.p99}`, `${b.run_to_probe_ms.p50} / ${b.run_to_probe_ms.p99}`, b.max_gap_ms, b.unchecked_instances]
      })))
    process.stdout.write(table(['CPU per check (worker processes), µs', 'value'], [
      ['total (process.cpuUsage over the window ÷ checks)', summary.cpu_us_per_check.total],
      ['  the probe itself (connect, TLS, auth, SELECT 1)', summary.cpu_us_per_check.probe],
      ['  the rest: engine, pg-boss, activity queries', summary.cpu_us_per_check.rest_engine],
      ['    of which the workers\' idle cost, spread over the checks', summary.cpu_us_per_check.of_which_idle_cost],
      ['worker cores busy on average (all workers)', summary.cpu_us_per_check.worker_cores_busy],
      ['  idle, before any instance existed', summary.cpu_us_per_check.worker_cores_idle]
    ]))
    if (summary.worker_profile) {
      const p = summary.worker_profile
      process.stdout.write(`worker CPU profile over the window (self time, ${p.busy_ms} ms busy): ${p.by_area.map(a => `${a.area} ${Math.round(100 * a.share)} %`).join(', ')}\n`)
      process.stdout.write(`  by who asked (nearest frame outside Node and the pg driver): ${p.by_owner.map(a => `${a.owner} ${Math.round(100 * a.share)} %`).join(', ')}\n`)
      process.stdout.write(`  top functions (← their main caller): ${p.top_functions.slice(0, 8).map(f => `${f.fn} ${Math.round(100 * f.share)} %${f.caller ? ` ← ${f.caller}` : ''}`).join('; ')}\n`)
    }
    process.stdout.write(`probe alone, CPU µs per probe by kind: ${KINDS.map(k => `${k} ${calibration[k].cpu_us_per_probe}`).join(', ')}\n`)
    process.stdout.write(`database transactions per check (pg_stat_database.xact_commit over the window, ±1 s of publishing lag): ${summary.db_transactions_per_check}\n`)
    process.stdout.write(`backlog (ready health jobs): first ${summary.backlog.ready_first}, last ${summary.backlog.ready_last}, max ${summary.backlog.ready_max}, trend ${summary.backlog.slope_jobs_per_min} jobs/min\n`)
    process.stdout.write(`\nheadline: ok targets' lateness p50 ${ok.lateness_ms.p50} ms, p99 ${ok.lateness_ms.p99} ms, max ${ok.lateness_ms.max} ms (goal: p99 < 2000, max < ${intervalMs}, gaps < ${2 * intervalMs}; max gap ${ok.max_gap_ms}); ` +
      `${summary.achieved_checks_per_s} of ${summary.required_checks_per_s} checks/s; backlog trend ${summary.backlog.slope_jobs_per_min} jobs/min; ` +
      `CPU ${summary.cpu_us_per_check.total} µs per check = probe ${summary.cpu_us_per_check.probe} + engine ${summary.cpu_us_per_check.rest_engine}; keeps up: ${summary.keeps_up}\n`)
    process.stdout.write(JSON.stringify(summary) + '\n')
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
    await Promise.all(children.map(c => c.exitCode !== null ? undefined : new Promise(resolve => c.once('exit', resolve))))
    await pool.end()
    slow.close()
    hang.close()
    await database.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--worker') {
  await worker(JSON.parse(process.argv[3]!) as WorkerSpec)
} else {
  await main()
}
