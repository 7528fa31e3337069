// npm run bench:day2 -- [flags]
//
// How long each day-2 operation takes through the API with the local
// provisioner, next to the bare PostgreSQL equivalent on the same machine in
// the same run. --n instances are created (not timed) and run; then, on each
// instance in turn, each operation is timed from the API request to the
// operation's terminal state (server.engine.waitFor: woken by the engine's
// finish NOTIFY), or to the response for the synchronous ones:
//   restart                          POST /instances/{name}/restart
//   stop / start                     POST …/stop, POST …/start
//   reset-password                   POST …/reset-password {password}
//   PATCH parameters (reload)        {"parameters":{"work_mem":"8MB"}}
//   PATCH parameters (restart)       {"parameters":{"shared_buffers":"256MB"},"apply":"restart"}
//   PATCH labels                     {"labels":{…}}: an update-instance operation (202)
//   PATCH deletion_protection        on, then off: metadata, 200 at once (2 per instance)
//   cancel a queued change           a stop queued behind a restart: POST /operations/{id}/cancel → cancelled
//   delete                           DELETE /instances/{name}
// Each is checked to have really happened, outside the timing: a restart
// gives a new postmaster pid (both restarts, ours and bare), a stop leaves no
// postmaster, the new password logs in, SHOW reports the new settings. A
// PATCH apply=restart that succeeds without restarting (its operation read
// pg_settings.pending_restart before the server had reloaded) is not timed
// but printed as an anomaly, with what the API then shows.
// Beside each time: reply (request → 202), pickup (operation created → its
// first step starts) and steps (first step start → last step end), p50.
//
// Baseline: after each instance, a throwaway cluster made with the same
// binaries, as the same OS user (initdb --no-sync, as the provisioner's
// template; no TLS), gets the bare equivalents, each on a fresh connection:
//   restart                          pg_ctl restart -m fast -w, then SELECT 1
//   stop / start                     pg_ctl stop -m fast -w; pg_ctl start -w, then SELECT 1
//   reset-password                   ALTER ROLE postgres PASSWORD '…'
//   PATCH parameters (reload)        ALTER SYSTEM SET work_mem; SELECT pg_reload_conf()
//   PATCH parameters (restart)       ALTER SYSTEM SET shared_buffers, then the restart above
//   delete                           pg_ctl stop -m fast -w, then rm -rf of the data directory
// The others have no bare equivalent. pg_ctl -w checks every 100 ms, so a
// bare stop or start is rounded up to the next 100 ms tick.
//
// Flags:
//   --n <instances>     instances (and bare clusters), each getting every operation once (default 3)
//   --port-min <port>   first port (default 27000; instances use 50, bare clusters the next free ones)
//   --help              this text
//
// Last line: one JSON object with every figure and the load average before and after.
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import app, { serverOptions } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { runBinary } from '../src/postgres/binaries.ts'
import { configureCluster, initCluster, stopCluster, type ClusterOptions } from '../src/postgres/cluster.ts'
import { installedMajors } from '../src/postgres/majors.ts'
import { placeServers } from '../src/postgres/placement.ts'
import { livePid } from '../src/postgres/process.ts'
import { instancePaths } from '../src/provisioners/local/layout.ts'
import { canListen } from '../src/provisioners/local/ports.ts'
import { killServersUnder } from '../test/helpers/app.ts'
import { cli, load, num, round, summary, table } from './lib/cli.ts'
import { benchDatabase } from './lib/database.ts'

const args = cli(import.meta.filename, {
  n: { type: 'string', default: '3' },
  'port-min': { type: 'string', default: '27000' }
})
const N = num(args.n, 'n')
const PORT_MIN = num(args['port-min'], 'port-min')
const MAJOR = '18'

const loadBefore = load()
const db = await benchDatabase()
const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-day2-'))
await chmod(dataDir, 0o755)
const config = loadConfig({
  LOG_LEVEL: 'silent',
  TOYGRES_DATA_DIR: dataDir,
  TOYGRES_WORKER_CONCURRENCY: '4',
  TOYGRES_LOCAL_PORT_MIN: String(PORT_MIN),
  TOYGRES_LOCAL_PORT_MAX: String(PORT_MIN + 49)
})
const server = Fastify({ ...serverOptions, logger: false })
let serverOpen = false
const bareDirs: string[] = []

// What the provisioner runs servers with: the same placement decision (once per process) and major.
const placement = placeServers({ dataDir: config.dataDir, binDir: config.pgBinDir })
const installed = (await installedMajors(placement.home, placement.binaries)).get(MAJOR)
if (!installed) throw new Error(`PostgreSQL ${MAJOR} is not installed`)
const binaries = installed.binaries
const runAs = placement.runAs

type Op = 'restart' | 'stop' | 'start' | 'reset_password' | 'patch_reload' | 'patch_restart' | 'patch_labels' | 'patch_protection' | 'cancel_queued' | 'delete'
const OPS: Array<{ op: Op, label: string, bare: string | null }> = [
  { op: 'restart', label: 'restart', bare: 'pg_ctl restart -m fast -w + SELECT 1' },
  { op: 'stop', label: 'stop', bare: 'pg_ctl stop -m fast -w' },
  { op: 'start', label: 'start', bare: 'pg_ctl start -w + SELECT 1' },
  { op: 'reset_password', label: 'reset-password', bare: 'connect + ALTER ROLE … PASSWORD' },
  { op: 'patch_reload', label: 'PATCH work_mem (reload)', bare: 'connect + ALTER SYSTEM + pg_reload_conf()' },
  { op: 'patch_restart', label: 'PATCH shared_buffers, apply=restart', bare: 'ALTER SYSTEM + pg_ctl restart + SELECT 1' },
  { op: 'patch_labels', label: 'PATCH labels (202, operation)', bare: null },
  { op: 'patch_protection', label: 'PATCH deletion_protection (200)', bare: null },
  { op: 'cancel_queued', label: 'cancel a queued stop', bare: null },
  { op: 'delete', label: 'delete', bare: 'pg_ctl stop -m fast -w + rm -rf' }
]
const ours = Object.fromEntries(OPS.map(o => [o.op, [] as number[]])) as Record<Op, number[]>
const bare = Object.fromEntries(OPS.map(o => [o.op, [] as number[]])) as Record<Op, number[]>
// Where the API's time goes: reply = request → the 202; from the operation's
// own records (the database's clock, which the engine's follows): pickup =
// operation created → its first step starts (queue, claim, replay); steps =
// first step start → last step end; and each step's duration, by name.
const parts = Object.fromEntries(OPS.map(o => [o.op, { reply: [] as number[], pickup: [] as number[], steps: [] as number[], byStep: {} as Record<string, number[]> }])) as
  Record<Op, { reply: number[], pickup: number[], steps: number[], byStep: Record<string, number[]> }>
const checks: string[] = []
// PATCH apply=restart that left the server unrestarted, and PATCH work_mem whose operation reported a value other than 8MB:
// both would mean the operation read pg_settings before the server had reloaded.
const anomalies = { patch_restart_not_restarted: [] as Array<{ instance: string, changes: string[], pending_restart_shown: boolean, shared_buffers: string }>, patch_reload_reported: [] as string[] }

interface Target { port: number, password: string, ca?: string }
/** A fresh connection (TLS verified against our CA for an instance), the statements one by one, closed; the last one's rows. */
async function sql (t: Target, ...statements: string[]): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({
    host: '127.0.0.1', port: t.port, user: 'postgres', database: 'postgres', password: t.password,
    ssl: t.ca ? { ca: t.ca, checkServerIdentity: () => undefined } : false
  })
  await client.connect()
  try {
    let rows: pg.QueryResultRow[] = []
    for (const text of statements) rows = (await client.query(text)).rows // ALTER SYSTEM refuses a multi-statement string (a transaction block)
    return rows
  } finally { await client.end() }
}
const show = async (t: Target, name: string): Promise<string> => Object.values((await sql(t, `SHOW ${name}`))[0]!)[0] as string

function expect (ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`)
}

/** The API request (202), then its operation to the end; returns the operation's output and the elapsed ms. */
async function timed (op: Op, request: () => Promise<LightMyRequestResponse>, opts: { want?: string, id?: string, keep?: (output: any) => boolean } = {}): Promise<{ output: any, ms: number }> {
  const want = opts.want ?? 'succeeded'
  const t0 = performance.now()
  const res = await request()
  const reply = performance.now() - t0
  if (res.statusCode !== 202) throw new Error(`${op}: ${res.statusCode} ${res.body}`)
  const id = opts.id ?? res.json().operation.id as string
  const done = await server.engine.waitFor(id, { timeoutMs: 120_000 })
  const ms = performance.now() - t0
  if (done.status !== want) throw new Error(`${op}: operation ${id} ${done.status}: ${JSON.stringify(done.error)}`)
  if (opts.keep?.(done.output) === false) return { output: done.output, ms }
  ours[op].push(ms)
  parts[op].reply.push(reply)
  const steps = (await server.engine.getSteps(id)).filter(s => s.finished_at)
  if (steps.length > 0) {
    parts[op].pickup.push(steps[0]!.started_at.getTime() - done.created_at.getTime())
    parts[op].steps.push(steps.at(-1)!.finished_at!.getTime() - steps[0]!.started_at.getTime())
    for (const s of steps) (parts[op].byStep[s.name.split('::').pop()!] ??= []).push(s.finished_at!.getTime() - s.started_at.getTime())
  }
  return { output: done.output, ms }
}

const inject = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>): Promise<LightMyRequestResponse> =>
  server.inject({ method, url, ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }) })

async function instanceOps (i: number, name: string, password: string): Promise<void> {
  const view = (await server.inject(`/instances/${name}`)).json()
  const port = Number(new URL(view.ip_connection_string).port)
  const target: Target = { port, password, ca: view.ca_certificate }
  const pgdata = instancePaths(placement.home, { namespace: view.namespace, instance_name: name, instance_id: view.id }).pgdata
  const pid = (): Promise<number | undefined> => livePid(pgdata)

  let before = await pid()
  const restarted = await timed('restart', () => inject('POST', `/instances/${name}/restart`))
  const after = await pid()
  expect(before !== undefined && after !== undefined && before !== after && String(after) === restarted.output.process, `restart of ${name} gave a new postmaster (${before} → ${after}, output ${restarted.output.process})`)
  if (i === 0) checks.push(`restart through the API: postmaster ${before} → ${after} (the operation says ${restarted.output.process})`)
  await sql(target, 'SELECT 1')

  await timed('stop', () => inject('POST', `/instances/${name}/stop`))
  expect(await pid() === undefined, `${name} has no postmaster after stop`)
  await timed('start', () => inject('POST', `/instances/${name}/start`))
  expect(await pid() !== undefined, `${name} runs after start`)
  await sql(target, 'SELECT 1')

  const next = `bench-new-password-${i}-${crypto.randomUUID().slice(0, 8)}`
  await timed('reset_password', () => inject('POST', `/instances/${name}/reset-password`, { password: next }))
  target.password = next
  await sql(target, 'SELECT 1') // the new password logs in

  const reload = await timed('patch_reload', () => inject('PATCH', `/instances/${name}`, { parameters: { work_mem: '8MB' } }))
  expect(await show(target, 'work_mem') === '8MB', `${name}: work_mem is 8MB after PATCH`)
  const reported = (reload.output.changes as string[]).join('; ')
  if (!/work_mem=(8MB|8192kB)/.test(reported)) anomalies.patch_reload_reported.push(`${name}: ${reported}`)

  // Timed only when the server really restarted: see the anomaly below the table otherwise.
  before = await pid()
  const restarting = await timed('patch_restart', () => inject('PATCH', `/instances/${name}`, { parameters: { shared_buffers: '256MB' }, apply: 'restart' }),
    { keep: out => (out.changes as string[]).some(c => c.startsWith('restarted')) })
  const buffers = await show(target, 'shared_buffers')
  if ((restarting.output.changes as string[]).some(c => c.startsWith('restarted'))) {
    expect(buffers === '256MB' && await pid() !== before, `${name}: shared_buffers is 256MB on a new postmaster after PATCH apply=restart`)
  } else {
    expect(await pid() === before, `${name}: no restart reported, none happened`)
    const shown = (await server.inject(`/instances/${name}`)).json().pending_restart as boolean
    anomalies.patch_restart_not_restarted.push({ instance: name, changes: restarting.output.changes, pending_restart_shown: shown, shared_buffers: buffers })
  }

  await timed('patch_labels', () => inject('PATCH', `/instances/${name}`, { labels: { bench: 'day2', round: String(i) } }))

  for (const on of [true, false]) {
    const t0 = performance.now()
    const res = await inject('PATCH', `/instances/${name}`, { deletion_protection: on })
    ours.patch_protection.push(performance.now() - t0)
    expect(res.statusCode === 200 && res.json().deletion_protection === on, `${name}: PATCH deletion_protection=${on} is 200 (${res.statusCode})`)
  }

  // A stop queued behind a restart, cancelled before it starts; then the restart ends.
  const hold = await inject('POST', `/instances/${name}/restart`)
  const queued = await inject('POST', `/instances/${name}/stop`)
  expect(queued.statusCode === 202 && queued.json().queued_behind === hold.json().operation.id, `${name}: the stop waits for the restart`)
  const stopId = queued.json().operation.id as string
  await timed('cancel_queued', () => inject('POST', `/operations/${stopId}/cancel`), { id: stopId, want: 'cancelled' })
  expect((await server.engine.waitFor(hold.json().operation.id, { timeoutMs: 120_000 })).status === 'succeeded', `${name}: the restart ahead of the cancelled stop succeeded`)
  expect(await pid() !== undefined, `${name} still runs: the cancelled stop never happened`)

  await timed('delete', () => inject('DELETE', `/instances/${name}`))
  expect((await server.inject(`/instances/${name}`)).statusCode === 404 && await pid() === undefined, `${name} is gone`)
}

let barePort = PORT_MIN + 50
async function bareOps (i: number): Promise<void> {
  while (!(await canListen(barePort))) barePort++
  const port = barePort++
  const c: ClusterOptions = { binaries, runAs, dataDir: join(dataDir, 'bare', `b${i}`) }
  const log = join(c.dataDir, 'server.log')
  bareDirs.push(c.dataDir)
  const target: Target = { port, password: 'bench-bare-password' }
  await initCluster(c, target.password, ['--no-sync'])
  await configureCluster(c, { port, host: '127.0.0.1' })
  await runBinary(binaries.pgCtl, ['start', '-w', '-D', c.dataDir, '-l', log], runAs)
  await sql(target, 'SELECT 1')
  const pgCtl = (...argv: string[]): Promise<string> => runBinary(binaries.pgCtl, argv, runAs)
  const time = async (op: Op, fn: () => Promise<unknown>): Promise<void> => {
    const t0 = performance.now()
    await fn()
    bare[op].push(performance.now() - t0)
  }

  let before = await livePid(c.dataDir)
  await time('restart', async () => { await pgCtl('restart', '-m', 'fast', '-w', '-D', c.dataDir, '-l', log); await sql(target, 'SELECT 1') })
  const after = await livePid(c.dataDir)
  expect(before !== undefined && after !== undefined && before !== after, `bare restart gave a new postmaster (${before} → ${after})`)
  if (i === 0) checks.push(`bare pg_ctl restart: postmaster ${before} → ${after}`)

  await time('stop', () => pgCtl('stop', '-m', 'fast', '-w', '-D', c.dataDir))
  expect(await livePid(c.dataDir) === undefined, 'no bare postmaster after stop')
  await time('start', async () => { await pgCtl('start', '-w', '-D', c.dataDir, '-l', log); await sql(target, 'SELECT 1') })

  const next = `bench-bare-new-${i}-${crypto.randomUUID().slice(0, 8)}`
  await time('reset_password', () => sql(target, `ALTER ROLE postgres PASSWORD '${next}'`))
  target.password = next
  await sql(target, 'SELECT 1')

  await time('patch_reload', () => sql(target, "ALTER SYSTEM SET work_mem = '8MB'", 'SELECT pg_reload_conf()'))
  await new Promise(resolve => setTimeout(resolve, 100)) // the reload is asynchronous
  expect(await show(target, 'work_mem') === '8MB', 'bare work_mem is 8MB')

  before = await livePid(c.dataDir)
  await time('patch_restart', async () => {
    await sql(target, "ALTER SYSTEM SET shared_buffers = '256MB'")
    await pgCtl('restart', '-m', 'fast', '-w', '-D', c.dataDir, '-l', log)
    await sql(target, 'SELECT 1')
  })
  expect(await show(target, 'shared_buffers') === '256MB' && await livePid(c.dataDir) !== before, 'bare shared_buffers is 256MB on a new postmaster')

  await time('delete', async () => {
    await pgCtl('stop', '-m', 'fast', '-w', '-D', c.dataDir)
    await rm(c.dataDir, { recursive: true, force: true })
  })
}

let leftRunning = -1
try {
  await server.register(app, { config, databaseUrl: db.url })
  await server.ready()
  serverOpen = true
  await mkdir(join(dataDir, 'bare'), { mode: 0o755 }) // initdb (as the postgres user) reads its pwfile here

  // The instances, created one after another (the first builds the template); not timed.
  const created: Array<{ name: string, password: string }> = []
  const tc = performance.now()
  for (let i = 0; i < N; i++) {
    const name = `day2-${i}`
    const res = await inject('POST', '/instances', { name, use_load_balancer: false })
    if (res.statusCode !== 202) throw new Error(res.body)
    const op = await server.engine.waitFor(res.json().operation.id, { timeoutMs: 120_000 })
    if (op.status !== 'succeeded') throw new Error(`create ${name}: ${op.status} ${JSON.stringify(op.error)}`)
    created.push({ name, password: res.json().password })
  }
  const createMs = performance.now() - tc

  // Instance i, then bare cluster i: machine noise hits both alike.
  for (let i = 0; i < N; i++) {
    await instanceOps(i, created[i]!.name, created[i]!.password)
    await bareOps(i)
  }
  const loadAfter = load()

  const s = (xs: number[]) => summary(xs, 0)
  const figures = OPS.map(({ op, label, bare: what }) => {
    const o = s(ours[op])
    const b = what ? s(bare[op]) : null
    const steps = Object.entries(parts[op].byStep).map(([k, xs]) => [k, s(xs).p50] as const).sort((x, y) => y[1] - x[1])
    const p50 = (xs: number[]): number | null => xs.length ? s(xs).p50 : null
    return {
      op, label, bare_equivalent: what, ours: o, bare: b,
      overhead_p50_ms: b && o.n > 0 ? o.p50 - b.p50 : null,
      reply_p50_ms: p50(parts[op].reply),
      pickup_p50_ms: p50(parts[op].pickup),
      steps_p50_ms: p50(parts[op].steps),
      slowest_step: steps[0] ? { name: steps[0][0], p50_ms: steps[0][1] } : null,
      by_step_p50_ms: Object.fromEntries(steps)
    }
  })

  process.stdout.write(`\nbench:day2 — ${N} instances on the local provisioner (created in ${Math.round(createMs)} ms, not timed), each operation once per instance; ` +
    `bare equivalents on ${N} throwaway clusters, interleaved; PostgreSQL ${MAJOR} from ${binaries.binDir}${runAs ? ` as uid ${runAs.uid}` : ''}; ` +
    `database: ${db.server}; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
  for (const c of checks) process.stdout.write(`check: ${c}\n`)
  process.stdout.write(table(
    ['operation, ms', 'n', 'ours p50', 'ours max', 'bare p50', 'bare max', 'ours − bare', 'reply', 'pickup', 'steps', 'slowest step (p50)', 'bare equivalent'],
    figures.map(f => [f.label, f.ours.n, f.ours.p50, f.ours.max, f.bare?.p50 ?? NaN, f.bare?.max ?? NaN, f.overhead_p50_ms ?? NaN,
      f.reply_p50_ms ?? NaN, f.pickup_p50_ms ?? NaN, f.steps_p50_ms ?? NaN, f.slowest_step ? `${f.slowest_step.name} ${f.slowest_step.p50_ms}` : '-', f.bare_equivalent ?? '-'])
  ))
  process.stdout.write('ours: request → terminal state seen by engine.waitFor (or the 200). Of which, p50: reply = request → 202; pickup = operation created → first step starts; ' +
    'steps = first step start → last step end (the operation\'s records, database clock).\n')
  for (const a of anomalies.patch_restart_not_restarted) {
    process.stdout.write(`anomaly: PATCH shared_buffers apply=restart on ${a.instance} succeeded without restarting (${a.changes.join('; ')}); SHOW shared_buffers = ${a.shared_buffers}, the API shows pending_restart ${a.pending_restart_shown}; not timed\n`)
  }
  for (const a of anomalies.patch_reload_reported) process.stdout.write(`anomaly: PATCH work_mem=8MB reported ${a}\n`)

  const by = Object.fromEntries(figures.map(f => [f.op, f]))
  const compared = figures.filter(f => f.overhead_p50_ms !== null)
  const worst = compared.reduce((a, b) => (b.overhead_p50_ms! > a.overhead_p50_ms! ? b : a))
  process.stdout.write(`\nheadline: restart through the API ${by.restart!.ours.p50} ms p50 (max ${by.restart!.ours.max}) against ${by.restart!.bare!.p50} ms for pg_ctl restart + SELECT 1 ` +
    `(${by.restart!.overhead_p50_ms! >= 0 ? '+' : ''}${by.restart!.overhead_p50_ms} ms); stop ${by.stop!.ours.p50} vs ${by.stop!.bare!.p50}, start ${by.start!.ours.p50} vs ${by.start!.bare!.p50}, ` +
    `reset-password ${by.reset_password!.ours.p50} vs ${by.reset_password!.bare!.p50}, PATCH reload ${by.patch_reload!.ours.p50} vs ${by.patch_reload!.bare!.p50}, ` +
    `delete ${by.delete!.ours.p50} vs ${by.delete!.bare!.p50}; the largest overhead: ${worst.label}, +${worst.overhead_p50_ms} ms` +
    `${anomalies.patch_restart_not_restarted.length ? `; PATCH apply=restart did not restart ${anomalies.patch_restart_not_restarted.length} of ${N} times` : ''}\n`)

  // Nothing of ours may still run: every instance and bare cluster was deleted.
  const pidFiles = (await readdir(dataDir, { recursive: true }).catch(() => [] as string[])).filter(f => f.endsWith('postmaster.pid'))
  leftRunning = (await Promise.all(pidFiles.map(f => livePid(join(dataDir, f, '..'))))).filter(p => p !== undefined).length

  process.stdout.write(JSON.stringify({
    bench: 'day2',
    n: N,
    database: db.server,
    postgres: { major: MAJOR, bin_dir: binaries.binDir },
    load_average: { before: loadBefore, after: loadAfter },
    create_all_ms: Math.round(createMs),
    servers_left_running: leftRunning,
    checks,
    anomalies,
    operations: Object.fromEntries(figures.map(({ op, ...f }) => [op, f])),
    overhead_p50_ms: Object.fromEntries(compared.map(f => [f.op, f.overhead_p50_ms])),
    ratio_p50: Object.fromEntries(compared.map(f => [f.op, round(f.ours.p50 / Math.max(1, f.bare!.p50), 2)]))
  }) + '\n')
} finally {
  if (serverOpen) await server.close()
  for (const dir of bareDirs) await stopCluster({ binaries, runAs, dataDir: dir }, 'immediate').catch(() => {})
  await killServersUnder(dataDir) // anything a failed run left behind
  await rm(dataDir, { recursive: true, force: true })
  await db.close()
}
if (leftRunning !== 0) {
  process.stderr.write(`${leftRunning < 0 ? 'the run did not finish' : `${leftRunning} servers were still running at the end (killed)`}\n`)
  process.exitCode = 1
}
