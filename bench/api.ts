// npm run bench:api — GET /instances/{name} and POST /instances throughput and
// latency, next to a bare Fastify route on the same machine in the same run.
// Flags: --duration <s> (default 5) --connections <n> (default 16).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Fastify, { type FastifyInstance } from 'fastify'
import app, { serverOptions } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { benchDatabase, flags } from './lib/database.ts'

const { duration, connections } = flags({ duration: 5, connections: 16 })

interface Figures { rps: number, p50: number, p99: number, non2xx: number }

async function load (url: string, opts: Partial<autocannon.Options> = {}): Promise<Figures> {
  const r = await autocannon({ url, connections, duration, ...opts })
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx }
}

async function listen (f: FastifyInstance): Promise<string> {
  await f.listen({ port: 0, host: '127.0.0.1' })
  const { port } = f.server.address() as { port: number }
  return `http://127.0.0.1:${port}`
}

const db = await benchDatabase()
// The app keeps its secret key file in its data directory: a temporary one, removed at the end.
const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-api-'))
// No workers: this measures the API (validate, write, enqueue, read), not provisioning.
const toygres = Fastify({ ...serverOptions, logger: false })
await toygres.register(app, { config: loadConfig({ LOG_LEVEL: 'silent', TOYGRES_WORKER_CONCURRENCY: '0', TOYGRES_DATA_DIR: dataDir }), databaseUrl: db.url })
const base = await listen(toygres)

// A representative instance to poll: created through the API, with its operation.
const seeded = await fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'polled' }) })
if (seeded.status !== 202) throw new Error(`seeding failed: ${seeded.status}`)
const sample = await (await fetch(`${base}/instances/polled`)).text()

// Baseline: a bare Fastify route returning a body of the same size.
const bare = Fastify({ logger: false })
bare.get('/static', async (_req, reply) => reply.type('application/json').send(sample))
const bareBase = await listen(bare)

const baseline = await load(`${bareBase}/static`)
const get = await load(`${base}/instances/polled`)
let n = 0
const post = await load(`${base}/instances`, {
  requests: [{
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    setupRequest: req => ({ ...req, body: JSON.stringify({ name: `bench-${process.pid}-${n++}` }) })
  }]
})

await toygres.close()
await bare.close()
await db.close()
await rm(dataDir, { recursive: true, force: true })

const row = (name: string, f: Figures) => `${name.padEnd(28)} ${String(f.rps).padStart(8)} ${f.p50.toFixed(1).padStart(8)} ${f.p99.toFixed(1).padStart(8)} ${String(f.non2xx).padStart(7)}`
console.log(`database: ${db.server}, ${connections} connections, ${duration} s each`)
console.log(`${'route'.padEnd(28)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non-2xx'.padStart(7)}`)
console.log(row('bare fastify (baseline)', baseline))
console.log(row('GET /instances/{name}', get))
console.log(row('POST /instances', post))
console.log(`GET status: ${Math.round(100 * get.rps / baseline.rps)} % of baseline req/s (goal >= 50 %), p99 ${get.p99} ms (goal < 20 ms)`)
console.log(JSON.stringify({ connections, duration_s: duration, database: db.server, baseline, get_instance: get, post_instances: post, get_vs_baseline: Number((get.rps / baseline.rps).toFixed(3)) }))
