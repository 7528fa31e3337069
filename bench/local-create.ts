// npm run bench:local -- [flags]
//
// How long the local provisioner takes from deploy to a first `SELECT 1`
// (deploy = copy of the template data directory + configure + SCRAM
// verifier + pg_ctl start; then waitForReady and a real login), next to a
// bare `initdb + pg_ctl start + SELECT 1` on the same machine in the same run.
//
// The provisioner keeps one spare copy of the template, made in the
// background after each create, which the next create renames into place.
// So three cases, interleaved round by round so machine noise hits them alike:
//   cold        no spare ready (the spare is removed first): the create copies
//               the template while the caller waits. This is the headline.
//   warm        a spare is ready: the create renames it.
//   concurrent  --concurrent creates at once (one spare at most is ready, the
//               others copy), per create and wall time for all of them.
// Before each timed create the background copy of the previous one has
// finished, so nothing else of ours runs while it is timed.
//
// Flags:
//   --n <rounds>        rounds of cold + warm + bare (default 8)
//   --concurrent <k>    creates at once in the concurrent phase (default 4)
//   --bursts <b>        concurrent bursts (default 3)
//   --port-min <port>   first port for the instances (default 28000; uses ~100)
//   --help              this text
//
// Last line: one JSON object with every figure.
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import pino from 'pino'
import { findBinaries, postgresRunAs } from '../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster } from '../src/postgres/cluster.ts'
import { createLocalProvisioner } from '../src/provisioners/local/index.ts'
import { createInMemoryAuthority } from '../src/tls/authority.ts'
import { canListen } from '../src/provisioners/local/ports.ts'
import { cli, load, num, round, summary, table } from './lib/cli.ts'

const args = cli(import.meta.filename, {
  n: { type: 'string', default: '8' },
  concurrent: { type: 'string', default: '4' },
  bursts: { type: 'string', default: '3' },
  'port-min': { type: 'string', default: '28000' }
})
const ROUNDS = num(args.n, 'n')
const K = num(args.concurrent, 'concurrent')
const BURSTS = num(args.bursts, 'bursts')
const PORT_MIN = num(args['port-min'], 'port-min')
const signal = { signal: new AbortController().signal, progress () {} }
const password = 'bench-password'
// The activity issues each instance a certificate from the control plane's CA; here one is issued up front and shared.
const tls = await (await createInMemoryAuthority('bench')).issueServerCertificate({ dns: ['localhost'], ip: ['127.0.0.1'] }, 'bench')

async function selectOne (port: number): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', password })
  await client.connect()
  await client.query('SELECT 1')
  await client.end()
}

const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-local-'))
await chmod(dataDir, 0o755)
const provisioner = createLocalProvisioner({ dataDir, portMin: PORT_MIN, portMax: PORT_MIN + 49, logger: pino({ level: 'warn' }), controlPlaneId: 'bench' })
const ids = new Map<string, string>()
const ref = (name: string) => ({ namespace: 'bench', instance_name: name, instance_id: ids.get(name) ?? ids.set(name, crypto.randomUUID()).get(name)! })
const live = new Set<string>()
const bareDirs: string[] = []
const binaries = findBinaries()
const runAs = postgresRunAs()
const loadBefore = load()

// The spare lives in <dataDir>/templates/pg<major>-spares/ (src/provisioners/local/layout.ts):
// complete ones are `spare-*`, one being copied is `.build-*`.
async function spareState (): Promise<{ ready: number, building: number }> {
  const templates = join(dataDir, 'templates')
  let ready = 0
  let building = 0
  for (const dir of (await readdir(templates).catch(() => [] as string[])).filter(d => d.endsWith('-spares'))) {
    for (const name of await readdir(join(templates, dir)).catch(() => [] as string[])) {
      if (name.startsWith('spare-')) ready++
      if (name.startsWith('.build-')) building++
    }
  }
  return { ready, building }
}

/** Until the background copy is done (and, with `spare`, one is ready). */
async function settle (spare: boolean): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const s = await spareState()
    if (s.building === 0 && (!spare || s.ready > 0)) return
    if (Date.now() > deadline) throw new Error(`no spare copy after 60 s: ${JSON.stringify(s)}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

async function dropSpares (): Promise<void> {
  const templates = join(dataDir, 'templates')
  for (const dir of (await readdir(templates).catch(() => [] as string[])).filter(d => d.endsWith('-spares'))) {
    for (const name of await readdir(join(templates, dir))) if (name.startsWith('spare-')) await rm(join(templates, dir, name), { recursive: true, force: true })
  }
}

interface Timing { deploy: number, ready: number, select1: number }

async function timeCreate (name: string): Promise<Timing> {
  live.add(name)
  const started = performance.now()
  await provisioner.deployPostgres({ ...ref(name), password, postgres_version: '18', storage_size_gb: 1, use_load_balancer: false, dns_label: null, allowed_cidrs: null, labels: {}, tls }, signal)
  const deploy = performance.now() - started
  await provisioner.waitForReady({ ...ref(name), timeout_seconds: 60 }, signal)
  const ready = performance.now() - started
  const { ip_connection_string: url } = await provisioner.getConnectionStrings({ ...ref(name), use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, signal)
  await selectOne(Number(new URL(url).port))
  return { deploy, ready, select1: performance.now() - started }
}

async function remove (name: string): Promise<void> {
  await provisioner.deletePostgres({ ...ref(name), timeout_seconds: 60 }, signal)
  live.delete(name)
}

let barePort = PORT_MIN + 50
async function timeBare (i: number): Promise<number> {
  while (!(await canListen(barePort))) barePort++
  const cluster = { binaries, runAs, dataDir: join(dataDir, 'bare', `b${i}`) }
  bareDirs.push(cluster.dataDir)
  const started = performance.now()
  await initCluster(cluster, password, ['--no-sync']) // as the template's initdb
  await configureCluster(cluster, { port: barePort, host: '127.0.0.1' })
  await startCluster(cluster)
  await selectOne(barePort)
  const ms = performance.now() - started
  await stopCluster(cluster, 'immediate')
  await rm(cluster.dataDir, { recursive: true, force: true })
  return ms
}

try {
  const first = await timeCreate('first') // builds the template: timed, but apart
  await remove('first')
  await mkdir(join(dataDir, 'bare'), { mode: 0o755 }) // initdb (as the postgres user) reads its pwfile here

  const cold: Timing[] = []
  const warm: Timing[] = []
  const bare: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    await settle(false)
    await dropSpares()
    cold.push(await timeCreate(`cold${i}`))
    await settle(true)
    warm.push(await timeCreate(`warm${i}`))
    await settle(true)
    bare.push(await timeBare(i))
    await remove(`cold${i}`)
    await remove(`warm${i}`)
  }

  const concurrent: Timing[] = []
  const walls: number[] = []
  for (let b = 0; b < BURSTS; b++) {
    await settle(true)
    const t0 = performance.now()
    const names = Array.from({ length: K }, (_v, j) => `burst${b}-${j}`)
    concurrent.push(...await Promise.all(names.map(timeCreate)))
    walls.push(performance.now() - t0)
    for (const name of names) await remove(name)
  }
  const loadAfter = load()

  const s = {
    cold: summary(cold.map(t => t.select1), 0),
    cold_deploy: summary(cold.map(t => t.deploy), 0),
    warm: summary(warm.map(t => t.select1), 0),
    warm_deploy: summary(warm.map(t => t.deploy), 0),
    concurrent: summary(concurrent.map(t => t.select1), 0),
    concurrent_wall: summary(walls, 0),
    bare: summary(bare, 0)
  }
  const row = (label: string, x: ReturnType<typeof summary>): Array<string | number> => [label, x.n, x.p50, x.mean, x.max]
  process.stdout.write(`\nbench:local — ${ROUNDS} rounds (cold, warm, bare interleaved), ${BURSTS} bursts of ${K}; first create (builds the template) ${Math.round(first.select1)} ms; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
  process.stdout.write(table(['deploy → SELECT 1, ms', 'n', 'p50', 'mean', 'max'], [
    row('cold: no spare ready (copies the template)', s.cold),
    row('  of which deployPostgres', s.cold_deploy),
    row('warm: a spare ready (renames it)', s.warm),
    row('  of which deployPostgres', s.warm_deploy),
    row(`concurrent: ${K} at once, each`, s.concurrent),
    row(`concurrent: ${K} at once, wall for all`, s.concurrent_wall),
    row('baseline: bare initdb + start + SELECT 1', s.bare)
  ]))
  const ratio = (x: number): number => round(s.bare.p50 / x, 2)
  process.stdout.write(`\nheadline: a cold local create takes ${s.cold.p50} ms to a first SELECT 1 (p50; max ${s.cold.max}), against ${s.bare.p50} ms for a bare initdb + start (${ratio(s.cold.p50)}× faster); ` +
    `with a spare ready ${s.warm.p50} ms; ${K} at once ${s.concurrent.p50} ms each, ${s.concurrent_wall.p50} ms for all\n`)
  process.stdout.write(JSON.stringify({
    bench: 'local',
    rounds: ROUNDS,
    concurrent: K,
    bursts: BURSTS,
    load_average: { before: loadBefore, after: loadAfter },
    first_create_ms: Math.round(first.select1),
    cold_ms: s.cold,
    cold_deploy_ms: s.cold_deploy,
    warm_ms: s.warm,
    warm_deploy_ms: s.warm_deploy,
    concurrent_each_ms: s.concurrent,
    concurrent_wall_ms: s.concurrent_wall,
    bare_initdb_start_select1_ms: s.bare,
    cold_speedup_vs_bare: ratio(s.cold.p50),
    warm_speedup_vs_bare: ratio(s.warm.p50)
  }) + '\n')
} finally {
  for (const name of live) await provisioner.deletePostgres({ ...ref(name), timeout_seconds: 60 }, signal).catch(() => {})
  for (const dir of bareDirs) await stopCluster({ binaries, runAs, dataDir: dir }, 'immediate').catch(() => {})
  await provisioner.close()
  await rm(dataDir, { recursive: true, force: true })
}
