// The control plane's database goes away (stopped), or hangs (every
// PostgreSQL process frozen, as in a network partition), under a running
// control plane. Requests answer 503 problem+json with Retry-After within a
// few seconds, never 500 and never a hang; /readyz says why; the outage is
// logged once and its end once; and when the database is back everything
// recovers by itself, with nothing lost or duplicated.
import { execFileSync } from 'node:child_process'
import { Writable } from 'node:stream'
import t from 'tap'
import { postmasterPid, startCluster, stopCluster } from '../../src/postgres/cluster.ts'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'
import { startThrowawayCluster } from '../helpers/throwaway-cluster.ts'

function capture (): { stream: Writable, lines: () => Array<{ level: number, msg: string }> } {
  const raw: string[] = []
  const stream = new Writable({ write (chunk, _enc, done) { raw.push(...String(chunk).split('\n').filter(Boolean)); done() } })
  return { stream, lines: () => raw.map(l => JSON.parse(l) as { level: number, msg: string }) }
}

/** The postmaster and every process it started. */
function serverProcesses (pid: number): number[] {
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean)
  return [pid, ...children]
}

t.test('a database that stops, comes back, and hangs', async t => {
  const db = await startThrowawayCluster('toygres-outage-', 'outage-password')
  t.teardown(() => db.stop())
  const env = await localProvisionerEnv(t)
  const logs = capture()
  const app = await buildTestApp(t, { ...env, TOYGRES_DATABASE_TIMEOUT_SECONDS: '1', TOYGRES_WORKER_CONCURRENCY: '2', TOYGRES_HEALTH_INTERVAL_SECONDS: '1' },
    { databaseUrl: db.url, logStream: logs.stream })
  const post = (name: string) => app.inject({ method: 'POST', url: '/instances', payload: { name, use_load_balancer: false } })
  const stateOf = async (name: string) => (await app.inject(`/instances/${name}`)).json()

  t.equal((await post('steady')).statusCode, 202)
  await pollUntil(() => stateOf('steady'), i => i.state === 'running', { what: 'steady running', timeoutMs: 60_000 })

  // A create in flight when the database stops.
  t.equal((await post('inflight')).statusCode, 202)
  await stopCluster(db.cluster, 'immediate')

  const during = await Promise.all(Array.from({ length: 30 }, () => app.inject('/instances')))
  t.same([...new Set(during.map(r => r.statusCode))], [503], 'every request: 503, none 500')
  t.match(during[0]!.json(), { type: 'https://toygres.dev/problems/unavailable', status: 503, detail: /database is unavailable/ })
  t.equal(during[0]!.headers['retry-after'], '5')
  const refused = await post('during')
  t.equal(refused.statusCode, 503, 'a create during the outage is refused, not half-made')
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json().detail, /the control plane's database is unreachable/)

  await startCluster(db.cluster)
  await pollUntil(() => app.inject('/instances'), r => r.statusCode === 200, { what: 'requests served again', timeoutMs: 30_000 })
  await pollUntil(async () => logs.lines().filter(l => l.msg === 'database is available again').length, n => n === 1, { what: 'the recovery logged', timeoutMs: 30_000 })
  const outageLines = logs.lines().filter(l => /database is unavailable/.test(l.msg))
  t.equal(outageLines.length, 1, 'the outage is logged once')
  t.same(logs.lines().filter(l => l.level >= 50 && !/database is/.test(l.msg)).map(l => l.msg), [], 'and nothing else at error level')

  // Nothing lost, nothing doubled: the create in flight finishes once; the refused one never happened.
  const inflight = await pollUntil(() => stateOf('inflight'), i => i.state !== 'creating', { what: 'inflight to end', timeoutMs: 120_000 })
  t.equal(inflight.state, 'running', JSON.stringify(inflight.error))
  t.equal((await app.inject('/instances/during')).statusCode, 404)
  const { rows } = await app.db.query<{ name: string, n: number }>(
    "SELECT key AS name, count(*)::int AS n FROM toygres.operations WHERE name LIKE '%create-instance' GROUP BY key ORDER BY key")
  t.same(rows, [{ name: 'inflight', n: 1 }, { name: 'steady', n: 1 }])

  // Hung: every server process frozen. Nothing answers; every wait is bounded.
  const pids = serverProcesses((await postmasterPid(db.cluster.dataDir))!)
  for (const pid of pids) process.kill(pid, 'SIGSTOP')
  t.teardown(() => { for (const pid of pids) { try { process.kill(pid, 'SIGCONT') } catch {} } })
  const started = Date.now()
  const [list, readiness] = await Promise.all([app.inject('/instances'), app.inject('/readyz')])
  const waited = Date.now() - started
  t.equal(list.statusCode, 503)
  t.equal(readiness.statusCode, 503)
  t.match(readiness.json().detail, /did not answer within 2 s/)
  // Bounded by the 1 s database timeout (plus pool acquire), not by how long the freeze lasts.
  t.ok(waited < 10_000, `answered while the database was frozen (${waited} ms)`)
  for (const pid of pids) process.kill(pid, 'SIGCONT')
  await pollUntil(() => app.inject('/instances'), r => r.statusCode === 200, { what: 'served after the thaw', timeoutMs: 30_000 })
})

t.test('a connection lost while checked out between two statements does not crash the process', async t => {
  const app = await buildTestApp(t)
  const client = await app.db.connect()
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  // The server ends the session while nothing is pending on it (an administrator, a failover, a restart).
  const ended = new Promise<void>(resolve => (client as unknown as { connection: { once (e: string, fn: () => void): void } }).connection.once('end', () => resolve()))
  await app.db.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
  await ended
  // Before, the pool client's 'error' had no listener and threw as an uncaught exception here.
  await t.rejects(client.query('SELECT 1'), 'the next statement on it fails, to the caller')
  client.release(true)
  t.equal((await app.inject('/readyz')).statusCode, 200, 'and the app goes on')
})
