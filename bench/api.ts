// npm run bench:api -- [flags]
//
// What clients polling instance status get: GET /instances/{name}, each
// request for a random instance among --instances seeded rows (running,
// with a finished create operation and its step timeline, as a real poll
// sees them; the first made through the API, the others copies of its rows),
// from a load generator (autocannon) in its own process. Runs
// the same load with the status micro-cache on (--cache-ms, the app's
// default 200 ms reuse window) and off (TOYGRES_STATUS_CACHE_MS=0: only
// concurrent identical requests share a load), counts the cache's hits,
// joins and misses, the server process's CPU per request and the database
// transactions per request; then, for reference, everyone polling one
// instance (the best case for the cache) and POST /instances.
// Same-run baseline: a bare Fastify route returning a body of the same size
// (also with random paths), from the same load generator.
//
// Headline: the random-instance poll with the cache as configured, next to
// the bare baseline; its uncached figure is printed beside it.
//
// Flags:
//   --instances <n>    rows to seed and poll among (default 1000)
//   --connections <n>  concurrent connections of the load generator (default 16)
//   --duration <s>     seconds per phase (default 5)
//   --cache-ms <ms>    TOYGRES_STATUS_CACHE_MS of the cached runs (default 200)
//   --rate <req/s>     open loop: the GET phases send this many requests per
//                      second in all (clients polling on a schedule) instead of
//                      as many as the server answers (default 0: closed loop).
//                      The hit rate depends on how often each instance is
//                      polled: closed loop, a faster server polls each instance
//                      more often and so hits more; a fixed rate does not.
//   --help             this text
//
// Database transactions per request: pg_stat_database.xact_commit of the
// benchmark's own database across each phase (every app is closed before
// reading, so every count is flushed), minus an idle phase of the same
// length (app up, no load: pg-boss's own maintenance and polling).
// Uses DATABASE_URL / TEST_DATABASE_URL or an embedded PostgreSQL, in a
// fresh database dropped at the end. Last line: one JSON object.
import { spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import Fastify, { type FastifyInstance } from 'fastify'
import pg from 'pg'
import app, { serverOptions } from '../src/app.ts'
import { loadConfig } from '../src/config.ts'
import { activityNames as act } from '../src/activities/names.ts'
import { cli, load, num, round, table } from './lib/cli.ts'
import { benchDatabase, committed } from './lib/database.ts'

interface LoadSpec { base: string, mode: 'random' | 'fixed' | 'post', path: string, instances: number, connections: number, duration: number, rate: number }
interface Figures { requests: number, rps: number, p50: number, p99: number, max: number, non2xx: number, errors: number }

/** The load generator, in its own process: prints one JSON line with its figures. */
async function loadgen (spec: LoadSpec): Promise<void> {
  let n = 0
  const request: autocannon.Request = spec.mode === 'post'
    ? {
        method: 'POST',
        path: spec.path,
        headers: { 'content-type': 'application/json' },
        setupRequest: req => ({ ...req, body: JSON.stringify({ name: `post-${process.pid}-${n++}` }) })
      }
    : spec.mode === 'random'
      ? { method: 'GET', setupRequest: req => ({ ...req, path: `${spec.path}${randomInt(spec.instances)}` }) }
      : { method: 'GET', path: `${spec.path}0` }
  const r = await autocannon({ url: spec.base, connections: spec.connections, duration: spec.duration, requests: [request], ...(spec.rate > 0 ? { overallRate: spec.rate } : {}) })
  const f: Figures = {
    requests: r.requests.total, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max, non2xx: r.non2xx, errors: r.errors + r.timeouts
  }
  process.stdout.write(JSON.stringify(f) + '\n')
}

if (process.argv[2] === '--loadgen') {
  await loadgen(JSON.parse(process.argv[3]!) as LoadSpec)
  process.exit(0)
}

const args = cli(import.meta.filename, {
  instances: { type: 'string', default: '1000' },
  connections: { type: 'string', default: '16' },
  duration: { type: 'string', default: '5' },
  'cache-ms': { type: 'string', default: '200' },
  rate: { type: 'string', default: '0' }
})
const INSTANCES = num(args.instances, 'instances')
const CONNECTIONS = num(args.connections, 'connections')
const DURATION = num(args.duration, 'duration')
const CACHE_MS = num(args['cache-ms'], 'cache-ms')
const RATE = num(args.rate, 'rate')
const PREFIX = 'poll-'

function runLoad (spec: Omit<LoadSpec, 'instances' | 'connections' | 'duration' | 'rate'>, rate = RATE): Promise<Figures> {
  const child = spawn(process.execPath, [import.meta.filename, '--loadgen', JSON.stringify({ ...spec, instances: INSTANCES, connections: CONNECTIONS, duration: DURATION, rate })], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}`))
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Figures)
    })
  })
}

async function listen (f: FastifyInstance): Promise<string> {
  await f.listen({ port: 0, host: '127.0.0.1' })
  const { port } = f.server.address() as { port: number }
  return `http://127.0.0.1:${port}`
}

const db = await benchDatabase()
// The app keeps its secret key file in its data directory: a temporary one, removed at the end.
const dataDir = await mkdtemp(join(tmpdir(), 'toygres-bench-api-'))
const loadBefore = load()

/** One app with its own pool and pg-boss, up for one phase and closed after it, so its database counts are flushed. */
async function startApp (cacheMs: number): Promise<{ server: FastifyInstance, base: string }> {
  // No workers: this measures the API (validate, write, enqueue, read), not provisioning.
  const config = loadConfig({ LOG_LEVEL: 'silent', TOYGRES_WORKER_CONCURRENCY: '0', TOYGRES_DATA_DIR: dataDir, TOYGRES_STATUS_CACHE_MS: String(cacheMs) })
  const server = Fastify({ ...serverOptions, logger: false })
  await server.register(app, { config, databaseUrl: db.url })
  return { server, base: await listen(server) }
}

async function cacheStats (server: FastifyInstance): Promise<{ hits: number, joined: number, misses: number }> {
  const metric = server.metrics.registry.getSingleMetric('toygres_status_cache_gets_total')
  const values = metric ? (await metric.get()).values : []
  const of = (result: string): number => values.find(v => v.labels.result === result)?.value ?? 0
  return { hits: of('hit'), joined: of('joined'), misses: of('miss') }
}

interface Phase extends Figures {
  cpu_us_per_request: number
  db_commits: number
  cache?: { hits: number, joined: number, misses: number, hit_rate: number }
}

/**
 * Seeds INSTANCES running instances: the first through the API, the rest as
 * copies of its rows (instance and create operation) made in SQL, so large
 * fleets seed in seconds; then each gets the finished create history a real
 * one has.
 */
async function seed (): Promise<string> {
  const { server, base } = await startApp(0)
  const res = await fetch(`${base}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `${PREFIX}0` }) })
  if (res.status !== 202) throw new Error(`seeding failed: ${res.status} ${await res.text()}`)
  await server.close()
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    await client.query('BEGIN')
    await client.query(`WITH t AS (
        SELECT i.*, o.name AS op_name, o.key AS op_key, o.input::text AS op_input FROM toygres.instances i JOIN toygres.operations o ON o.id = i.operation_id WHERE i.name = $2
      ), g AS (
        SELECT n, gen_random_uuid() AS iid, gen_random_uuid() AS oid FROM generate_series(1, $1::int - 1) n
      ), ops AS (
        INSERT INTO toygres.operations (id, name, key, input)
        SELECT g.oid, t.op_name, replace(t.op_key, $2, $3 || g.n), replace(replace(t.op_input, '"' || $2 || '"', '"' || $3 || g.n || '"'), t.id::text, g.iid::text)::jsonb FROM t, g
      )
      INSERT INTO toygres.instances (id, name, namespace, postgres_version, storage_size_gb, use_load_balancer, dns_label, password_ciphertext, operation_id)
      SELECT g.iid, $3 || g.n, t.namespace, t.postgres_version, t.storage_size_gb, t.use_load_balancer, t.dns_label, t.password_ciphertext, g.oid FROM t, g`,
    [INSTANCES, `${PREFIX}0`, PREFIX])
    await client.query(`UPDATE toygres.instances SET state = 'running', health = 'healthy', server_version = '18.1', deployment_time_seconds = 2,
      ip_connection_string = 'postgresql://postgres@127.0.0.1:' || (25000 + abs(hashtext(name)) % 1000) || '/postgres', external_ip = '127.0.0.1',
      last_health_check_at = now(), last_response_time_ms = 2.4, health_operation_id = gen_random_uuid()`)
    await client.query(`UPDATE toygres.operations o SET status = 'succeeded', attempts = 1, started_at = o.created_at, finished_at = o.created_at + interval '2 s',
      output = jsonb_build_object('instance_name', i.name, 'namespace', i.namespace, 'ip_connection_string', i.ip_connection_string, 'dns_connection_string', null,
        'external_ip', '127.0.0.1', 'dns_name', null, 'postgres_version', '18.1', 'deployment_time_seconds', 2)
      FROM toygres.instances i WHERE o.id = i.operation_id`)
    // The create timeline (as src/orchestrations/create-instance.ts records it), with outputs of a real run's size.
    await client.query(`INSERT INTO toygres.operation_steps (operation_id, position, name, status, started_at, finished_at, output)
      SELECT i.operation_id, s.position, s.name, 'succeeded', o.created_at + s.position * interval '200 ms', o.created_at + (s.position + 1) * interval '200 ms',
        replace(s.output, '$NAME', i.name)::jsonb
      FROM toygres.instances i JOIN toygres.operations o ON o.id = i.operation_id CROSS JOIN (VALUES
        (0, '$now', '1767225600000'),
        (1, $1::text, '{"instance_name":"$NAME","namespace":"toygres","created":["PortReservation/$NAME","DataDirectory/$NAME","Process/$NAME"],"existing":[]}'),
        (2, $2::text, '{"ready":true,"pod_name":"$NAME","elapsed_seconds":0.41}'),
        (3, $3::text, '{"ip_connection_string":"postgresql://postgres@127.0.0.1:25001/postgres","dns_connection_string":null,"external_ip":"127.0.0.1","dns_name":null}'),
        (4, $4::text, '{"version":"PostgreSQL 18.1 on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit","latency_ms":3.2}'),
        (5, '$now', '1767225602000'),
        (6, $5::text, 'true'),
        (7, $6::text, '"7d3c1f0e-8a51-4e8b-9a53-6f1d2f6c1a9e"')
      ) AS s(position, name, output)`, [act.DEPLOY_POSTGRES, act.WAIT_FOR_READY, act.GET_CONNECTION_STRINGS, act.TEST_CONNECTION, act.MARK_RUNNING, act.START_HEALTH_CHECK])
    await client.query('COMMIT')
    await client.query('ANALYZE')
  } finally {
    await client.end()
  }
  // A representative body, for the bare baseline to return.
  const probe = await startApp(0)
  const sample = await (await fetch(`${probe.base}/instances/${PREFIX}0`)).text()
  await probe.server.close()
  return sample
}

async function phase (cacheMs: number, spec: { mode: LoadSpec['mode'], path: string } | null): Promise<Phase> {
  const before = await committed(db.adminUrl, db.name)
  const { server, base } = await startApp(cacheMs)
  const cpu0 = process.cpuUsage()
  const figures: Figures = spec === null
    ? await new Promise(resolve => setTimeout(() => resolve({ requests: 0, rps: 0, p50: NaN, p99: NaN, max: NaN, non2xx: 0, errors: 0 }), DURATION * 1000))
    : await runLoad({ base, ...spec }, spec.mode === 'post' ? 0 : RATE)
  const cpu = process.cpuUsage(cpu0)
  const stats = await cacheStats(server)
  await server.close()
  const after = await committed(db.adminUrl, db.name)
  const gets = stats.hits + stats.joined + stats.misses
  return {
    ...figures,
    cpu_us_per_request: figures.requests ? round((cpu.user + cpu.system) / figures.requests, 1) : NaN,
    db_commits: after.commits - before.commits,
    ...(spec?.mode === 'post' || spec === null ? {} : { cache: { ...stats, hit_rate: gets ? round((stats.hits + stats.joined) / gets, 3) : 0 } })
  }
}

try {
  const sample = await seed()
  const bare = Fastify({ logger: false })
  bare.get('/static/:name', async (_req, reply) => reply.type('application/json').send(sample))
  const bareBase = await listen(bare)
  const cpu0 = process.cpuUsage()
  const baselineLoad = await runLoad({ base: bareBase, mode: 'random', path: '/static/' }, 0)
  const bareCpu = process.cpuUsage(cpu0)
  await bare.close()
  const baseline = { ...baselineLoad, cpu_us_per_request: round((bareCpu.user + bareCpu.system) / baselineLoad.requests, 1) }

  const idle = await phase(CACHE_MS, null)
  const uncached = await phase(0, { mode: 'random', path: `/instances/${PREFIX}` })
  const cached = await phase(CACHE_MS, { mode: 'random', path: `/instances/${PREFIX}` })
  const hot = await phase(CACHE_MS, { mode: 'fixed', path: `/instances/${PREFIX}` })
  const post = await phase(CACHE_MS, { mode: 'post', path: '/instances' })
  const perRequest = (p: Phase): number => round((p.db_commits - idle.db_commits) / p.requests, 2)
  const loadAfter = load()

  const pctOf = (p: Figures): string => `${Math.round(100 * p.rps / baseline.rps)} %`
  const rows: Array<Array<string | number>> = [
    ['bare fastify, random paths (baseline)', baseline.rps, baseline.p50, baseline.p99, baseline.non2xx + baseline.errors, '-', baseline.cpu_us_per_request, '-', '100 %'],
    [`GET random of ${INSTANCES}, cache ${CACHE_MS} ms`, cached.rps, cached.p50, cached.p99, cached.non2xx + cached.errors, `${round(100 * cached.cache!.hit_rate, 1)} %`, cached.cpu_us_per_request, perRequest(cached), pctOf(cached)],
    [`GET random of ${INSTANCES}, no cache (0 ms)`, uncached.rps, uncached.p50, uncached.p99, uncached.non2xx + uncached.errors, `${round(100 * uncached.cache!.hit_rate, 1)} %`, uncached.cpu_us_per_request, perRequest(uncached), pctOf(uncached)],
    [`GET one instance, cache ${CACHE_MS} ms (best case)`, hot.rps, hot.p50, hot.p99, hot.non2xx + hot.errors, `${round(100 * hot.cache!.hit_rate, 1)} %`, hot.cpu_us_per_request, perRequest(hot), pctOf(hot)],
    ['POST /instances', post.rps, post.p50, post.p99, post.non2xx + post.errors, '-', post.cpu_us_per_request, perRequest(post), pctOf(post)]
  ]
  process.stdout.write(`\nbench:api — database: ${db.server}; ${INSTANCES} instances; load generator in its own process, ${CONNECTIONS} connections, ${RATE > 0 ? `GETs at ${RATE} req/s (open loop)` : 'closed loop'}, ${DURATION} s per phase; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
  process.stdout.write(table(['phase', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'cache hits', 'server CPU µs/req', 'db xacts/req', 'of bare'], rows))
  process.stdout.write(`cache counts (hit = finished load reused, joined = load in flight shared, miss = loaded): cached ${JSON.stringify(cached.cache)}, uncached ${JSON.stringify(uncached.cache)}; idle app: ${idle.db_commits} transactions in ${DURATION} s (subtracted)\n`)
  process.stdout.write(`\nheadline: GET /instances/{name}, random instance of ${INSTANCES}, cache ${CACHE_MS} ms: ${cached.rps} req/s, p99 ${cached.p99} ms, ` +
    `${pctOf(cached)} of bare Fastify's ${baseline.rps} req/s (cache hits ${round(100 * cached.cache!.hit_rate, 1)} %); without the cache: ${uncached.rps} req/s, p99 ${uncached.p99} ms (${pctOf(uncached)})\n`)
  process.stdout.write(JSON.stringify({
    bench: 'api',
    database: db.server,
    instances: INSTANCES,
    connections: CONNECTIONS,
    duration_s: DURATION,
    cache_ms: CACHE_MS,
    rate: RATE,
    load_average: { before: loadBefore, after: loadAfter },
    baseline_bare_fastify: baseline,
    get_random_cached: { ...cached, db_xacts_per_request: perRequest(cached), vs_baseline: round(cached.rps / baseline.rps, 3) },
    get_random_uncached: { ...uncached, db_xacts_per_request: perRequest(uncached), vs_baseline: round(uncached.rps / baseline.rps, 3) },
    get_one_instance_cached: { ...hot, db_xacts_per_request: perRequest(hot), vs_baseline: round(hot.rps / baseline.rps, 3) },
    post_instances: { ...post, db_xacts_per_request: perRequest(post) },
    idle_db_commits: idle.db_commits,
    cached_vs_uncached: round(cached.rps / uncached.rps, 3)
  }) + '\n')
} finally {
  await db.close()
  await rm(dataDir, { recursive: true, force: true })
}
