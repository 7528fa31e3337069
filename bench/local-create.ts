// `node bench/local-create.ts --n 10`: how long the local provisioner takes
// from deploy to ready (template copy + SCRAM verifier + start), next to a
// bare `initdb + pg_ctl start + SELECT 1`, on the same machine in the same run.
// Prints a table, then one line of JSON.
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import pino from 'pino'
import { findBinaries, postgresRunAs } from '../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster } from '../src/postgres/cluster.ts'
import { createLocalProvisioner } from '../src/provisioners/local/index.ts'
import { createInMemoryAuthority } from '../src/tls/authority.ts'
import { canListen } from '../src/provisioners/local/ports.ts'

const { values } = parseArgs({ options: { n: { type: 'string', default: '10' }, 'port-min': { type: 'string', default: '28000' } } })
const n = Number(values.n)
const portMin = Number(values['port-min'])
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

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return { p50: s[Math.floor((s.length - 1) / 2)]!, min: s[0]!, max: s[s.length - 1]!, mean: s.reduce((a, b) => a + b, 0) / s.length }
}

const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-'))
await chmod(dataDir, 0o755)
const provisioner = createLocalProvisioner({ dataDir, portMin, portMax: portMin + n + 50, logger: pino({ level: 'warn' }), controlPlaneId: 'bench' })
const ids = new Map<string, string>()
const ref = (name: string) => ({ namespace: 'bench', instance_name: name, instance_id: ids.get(name) ?? ids.set(name, crypto.randomUUID()).get(name)! })
const names: string[] = []
const bareDirs: string[] = []
const binaries = findBinaries()
const runAs = postgresRunAs()

try {
  // The first create also builds the template: timed, but apart.
  const timeCreate = async (name: string): Promise<{ ready: number, select1: number }> => {
    names.push(name)
    const started = performance.now()
    await provisioner.deployPostgres({ ...ref(name), password, postgres_version: '18', storage_size_gb: 1, use_load_balancer: false, dns_label: null, allowed_cidrs: null, labels: {}, tls }, signal)
    await provisioner.waitForReady({ ...ref(name), timeout_seconds: 60 }, signal)
    const ready = performance.now() - started
    const { ip_connection_string: url } = await provisioner.getConnectionStrings({ ...ref(name), use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, signal)
    await selectOne(Number(new URL(url).port))
    return { ready, select1: performance.now() - started }
  }
  const first = await timeCreate('first')
  const local: Array<{ ready: number, select1: number }> = []
  for (let i = 0; i < n; i++) local.push(await timeCreate(`b${i}`))

  const bare: number[] = []
  await mkdir(join(dataDir, 'bare'), { mode: 0o755 }) // initdb (as the postgres user) reads its pwfile here
  let port = portMin + n + 51
  for (let i = 0; i < n; i++) {
    while (!(await canListen(port))) port++
    const cluster = { binaries, runAs, dataDir: join(dataDir, 'bare', `b${i}`) }
    bareDirs.push(cluster.dataDir)
    const started = performance.now()
    await initCluster(cluster, password, ['--no-sync'])
    await configureCluster(cluster, { port, host: '127.0.0.1' })
    await startCluster(cluster)
    await selectOne(port)
    bare.push(performance.now() - started)
    port++
  }

  const rows = {
    'local: deploy + waitForReady': stats(local.map(l => l.ready)),
    'local: ... + SELECT 1': stats(local.map(l => l.select1)),
    'bare: initdb + start + SELECT 1': stats(bare)
  }
  const ms = (x: number): string => x.toFixed(0).padStart(7)
  process.stdout.write(`n=${n}, first local create (builds the template): ${first.ready.toFixed(0)} ms\n`)
  process.stdout.write(`${'ms'.padEnd(34)}${'p50'.padStart(7)}${'min'.padStart(7)}${'max'.padStart(7)}${'mean'.padStart(7)}\n`)
  for (const [label, s] of Object.entries(rows)) process.stdout.write(`${label.padEnd(34)}${ms(s.p50)}${ms(s.min)}${ms(s.max)}${ms(s.mean)}\n`)
  const result = {
    n,
    local_create_to_ready_p50_ms: Math.round(rows['local: deploy + waitForReady'].p50),
    local_create_to_select1_p50_ms: Math.round(rows['local: ... + SELECT 1'].p50),
    bare_initdb_start_select1_p50_ms: Math.round(rows['bare: initdb + start + SELECT 1'].p50),
    first_local_create_ms: Math.round(first.ready),
    speedup: Number((rows['bare: initdb + start + SELECT 1'].p50 / rows['local: ... + SELECT 1'].p50).toFixed(2))
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} finally {
  for (const name of names) await provisioner.deletePostgres({ ...ref(name), timeout_seconds: 60 }, signal).catch(() => {})
  for (const dir of bareDirs) await stopCluster({ binaries, runAs, dataDir: dir }, 'immediate').catch(() => {})
  await provisioner.close()
  await rm(dataDir, { recursive: true, force: true })
}
