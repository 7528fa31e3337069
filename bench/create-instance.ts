// npm run bench:create -- [flags]
//
// What a user waits for: POST /instances until GET says running, with the
// local provisioner, then DELETE until 404. Baseline in the same run: the
// bare provisioner calls (deploy + wait + connection strings) without the
// API, the engine or the database.
//
// Flags:
//   --n <instances>  creates to time after one warm-up (default 5)
//   --help           this text
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { pino } from 'pino'
import app, { serverOptions } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { createLocalProvisioner } from '../src/provisioners/local/index.ts'
import { createInMemoryAuthority } from '../src/tls/authority.ts'
import { cli, num } from './lib/cli.ts'
import { benchDatabase } from './lib/database.ts'

const n = num(cli(import.meta.filename, { n: { type: 'string', default: '5' } }).n, 'n')
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!
const never = { signal: new AbortController().signal, progress () {} }

const db = await benchDatabase()
const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-create-'))
await chmod(dataDir, 0o755)
const config = loadConfig({ LOG_LEVEL: 'silent', TOYGRES_DATA_DIR: dataDir, TOYGRES_WORKER_CONCURRENCY: '4', TOYGRES_LOCAL_PORT_MIN: '26000', TOYGRES_LOCAL_PORT_MAX: '26099' })
const server = Fastify({ ...serverOptions, logger: false })
await server.register(app, { config, databaseUrl: db.url })
await server.ready()

async function until (url: string, done: (status: number, body: { state?: string }) => boolean): Promise<void> {
  for (;;) {
    const res = await server.inject(url)
    if (done(res.statusCode, res.json())) return
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

// Warm-up: the first create builds the template data directory.
const timings = { create: [] as number[], delete: [] as number[], bare: [] as number[] }
for (let i = -1; i < n; i++) {
  const name = `bench-${i < 0 ? 'warmup' : i}`
  const t0 = performance.now()
  const res = await server.inject({ method: 'POST', url: '/instances', payload: { name, use_load_balancer: false } })
  if (res.statusCode !== 202) throw new Error(res.body)
  await until(`/instances/${name}`, (_s, b) => b.state !== 'creating')
  const t1 = performance.now()
  await server.inject({ method: 'DELETE', url: `/instances/${name}` })
  await until(`/instances/${name}`, s => s === 404)
  if (i >= 0) { timings.create.push(t1 - t0); timings.delete.push(performance.now() - t1) }
}
await server.close()

const tls = await (await createInMemoryAuthority('bench')).issueServerCertificate({ dns: ['localhost'], ip: ['127.0.0.1'] }, 'bench')
const bare = createLocalProvisioner({ dataDir, portMin: 26100, portMax: 26199, logger: pino({ level: 'silent' }), controlPlaneId: 'bench' })
for (let i = 0; i < n; i++) {
  const ref = { namespace: 'bench', instance_name: `bare-${i}`, instance_id: crypto.randomUUID() }
  const t0 = performance.now()
  await bare.deployPostgres({ ...ref, password: 'bench-password-1', postgres_version: '18', storage_size_gb: 1, use_load_balancer: false, dns_label: null, allowed_cidrs: null, labels: {}, tls }, never)
  await bare.waitForReady({ ...ref, timeout_seconds: 60 }, never)
  await bare.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never)
  timings.bare.push(performance.now() - t0)
  await bare.deletePostgres({ ...ref, timeout_seconds: 60 }, never)
}
await bare.close()
await rm(dataDir, { recursive: true, force: true })
await db.close()

const figures = Object.fromEntries(Object.entries(timings).map(([k, xs]) => [k, { p50_ms: Math.round(pct(xs, 0.5)), max_ms: Math.round(Math.max(...xs)) }]))
console.log(`local provisioner, n=${n}, database: ${db.server}`)
console.log('what'.padEnd(44), 'p50 ms'.padStart(8), 'max ms'.padStart(8))
console.log('POST /instances → running (API+engine+steps)'.padEnd(44), String(figures.create!.p50_ms).padStart(8), String(figures.create!.max_ms).padStart(8))
console.log('DELETE → 404'.padEnd(44), String(figures.delete!.p50_ms).padStart(8), String(figures.delete!.max_ms).padStart(8))
console.log('bare provisioner deploy+wait+strings'.padEnd(44), String(figures.bare!.p50_ms).padStart(8), String(figures.bare!.max_ms).padStart(8))
console.log(JSON.stringify({ n, database: db.server, create_to_running: figures.create, delete_to_gone: figures.delete, bare_provisioner: figures.bare }))
