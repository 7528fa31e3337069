// With realPostgres the pod's container is PostgreSQL itself, run from the
// pod spec: Secret/ConfigMap volumes on disk with the kubelet's modes and
// fsGroup ownership, the container's args, its own key-file check, its logs,
// its data on the claim across restarts and evictions, reached through a
// LoadBalancer that honours loadBalancerSourceRanges.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { postgresRunAs } from '../../../src/postgres/binaries.ts'
import { configMap, fake, loadBalancer, podState, secret, statefulSet, until } from './helpers.ts'

const STS = '/apis/apps/v1/namespaces/toygres/statefulsets'
const TLS_ARGS = ['-c', 'ssl=on', '-c', 'ssl_cert_file=/tls/tls.crt', '-c', 'ssl_key_file=/tls/tls.key']

/** A throwaway self-signed certificate (the product will use a library; openssl is fine in a test). */
function selfSigned (): { key: string, cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-tls-'))
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=db'], { stdio: 'ignore' })
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
  } finally { rmSync(dir, { recursive: true, force: true }) }
}

/** Polls a condition outside the store (a file on disk, a connection): a wait on a condition, not a sleep. */
async function poll<T> (check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

async function query (host: string, sql: string, opts: Partial<pg.ClientConfig> = {}): Promise<any[]> {
  const client = new pg.Client({ host, port: 5432, user: 'postgres', password: 'pw', database: 'postgres', connectionTimeoutMillis: 10_000, ...opts })
  await client.connect()
  try { return (await client.query(sql)).rows } finally { await client.end() }
}

const readyPod = (kube: Awaited<ReturnType<typeof fake>>['kube'], name: string, not?: string) =>
  until(kube, () => { const p = kube.state.get('pods', 'toygres', name); return p && p.metadata.uid !== not && podState(p) === 'Ready' && p }, 60_000, `${name} Ready`)

t.test('a TLS key in a Secret volume: 0644 makes PostgreSQL refuse to start, 0600 (0640 root:fsGroup in the pod) works', { timeout: 120_000 }, async t => {
  const { kube, call } = await fake(t, { realPostgres: true, backoffBaseMs: 100 })
  const tls = selfSigned()
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-tls', { 'tls.crt': tls.cert, 'tls.key': tls.key }))
  for (const n of ['bad', 'good']) {
    await call('POST', '/api/v1/namespaces/toygres/secrets', secret(`${n}-credentials`, { password: 'pw' }))
    await call('POST', '/api/v1/namespaces/toygres/services', loadBalancer(n))
  }
  const withKey = (defaultMode: number) => ({ args: TLS_ARGS, volumes: [{ name: 'tls', secret: { secretName: 'db-tls', defaultMode } }], volumeMounts: [{ name: 'tls', mountPath: '/tls', readOnly: true }] })
  await call('POST', STS, statefulSet('bad', withKey(0o644)))
  await call('POST', STS, statefulSet('good', withKey(0o600)))

  const looping = await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'bad-0'); return podState(p) === 'CrashLoopBackOff' && p }, 60_000, 'bad-0 CrashLoopBackOff')
  t.match(looping.status.containerStatuses[0].lastState, { terminated: { exitCode: 1, reason: 'Error' } })
  const fatal = 'FATAL:  private key file "/tls/tls.key" has group or world access'
  const detail = 'DETAIL:  File must have permissions u=rw (0600) or less if owned by the database user, or permissions u=rw,g=r (0640) or less if owned by root.'
  const current = await call('GET', '/api/v1/namespaces/toygres/pods/bad-0/log')
  t.equal(current.status, 200, 'in CrashLoopBackOff the log is the last terminated container\'s')
  t.ok(current.text.includes(fatal), 'PostgreSQL\'s own FATAL line, with the path the manifest used')
  t.ok(current.text.includes(detail))
  t.ok((await call('GET', '/api/v1/namespaces/toygres/pods/bad-0/log?previous=true')).text.includes(fatal))

  const good = await readyPod(kube, 'good-0')
  const key = join(kube.state.backing.get('toygres/good-0')!.dataDir, 'volumes', 'tls', 'tls.key')
  const st = statSync(key)
  t.equal(st.mode & 0o777, 0o640, 'defaultMode 0600 | roMask 0440')
  t.equal(st.uid, 0, 'written by the kubelet: root')
  t.equal(st.gid, postgresRunAs()?.gid ?? st.gid, 'group: the fsGroup')
  t.equal(good.status.containerStatuses[0].restartCount, 0)
  const ip = (await until(kube, () => kube.state.get('services', 'toygres', 'good')?.status?.loadBalancer?.ingress?.[0]?.ip, 10_000)) as string
  const rows = await query(ip, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', { ssl: { rejectUnauthorized: false } })
  t.same(rows, [{ ssl: true }], 'a TLS connection through the load balancer')
})

t.test('pg_hba.conf from a ConfigMap: an update reaches the file, pg_reload_conf() applies it', { timeout: 120_000 }, async t => {
  const { kube, call } = await fake(t, { realPostgres: true, kubeletSyncMs: 50 })
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/api/v1/namespaces/toygres/services', loadBalancer('db'))
  await call('POST', '/api/v1/namespaces/toygres/configmaps', configMap('db-hba', { 'pg_hba.conf': 'host all all 127.0.0.1/32 scram-sha-256\n' }))
  await call('POST', STS, statefulSet('db', {
    args: ['-c', 'hba_file=/config/pg_hba.conf'],
    volumes: [{ name: 'config', configMap: { name: 'db-hba', items: [{ key: 'pg_hba.conf', path: 'pg_hba.conf', mode: 0o444 }] } }],
    volumeMounts: [{ name: 'config', mountPath: '/config' }]
  }))
  await readyPod(kube, 'db-0')
  const ip = (await until(kube, () => kube.state.get('services', 'toygres', 'db')?.status?.loadBalancer?.ingress?.[0]?.ip, 10_000)) as string
  const client = new pg.Client({ host: ip, port: 5432, user: 'postgres', password: 'pw', database: 'postgres' })
  await client.connect()
  t.teardown(() => client.end().catch(() => {}))
  t.same((await client.query('SHOW hba_file')).rows, [{ hba_file: join(kube.state.backing.get('toygres/db-0')!.dataDir, 'volumes', 'config', 'pg_hba.conf') }])

  await call('PATCH', '/api/v1/namespaces/toygres/configmaps/db-hba', { data: { 'pg_hba.conf': 'host all all 127.0.0.1/32 reject\n' } }, 'application/merge-patch+json')
  const file = join(kube.state.backing.get('toygres/db-0')!.dataDir, 'volumes', 'config', 'pg_hba.conf')
  await poll(() => readFileSync(file, 'utf8').includes('reject') ? true : undefined, 10_000, 'the kubelet to rewrite pg_hba.conf')
  t.equal(statSync(file).mode & 0o777, 0o444, 'the item mode (| roMask)')
  t.same((await client.query('SELECT pg_reload_conf() AS ok')).rows, [{ ok: true }])
  await t.rejects(query(ip, 'SELECT 1'), { message: /pg_hba\.conf rejects connection for host "127\.0\.0\.1", user "postgres", database "postgres"/ })
})

t.test('the data lives on the claim: it survives a killed container and an eviction; the LB honours its source ranges', { timeout: 120_000 }, async t => {
  const { kube, call } = await fake(t, { realPostgres: true, loadBalancerSourceRanges: 'enforce' })
  await call('POST', '/api/v1/namespaces/toygres/secrets', secret('db-credentials', { password: 'pw' }))
  await call('POST', '/api/v1/namespaces/toygres/services', loadBalancer('db'))
  await call('POST', STS, statefulSet('db'))
  const first = await readyPod(kube, 'db-0')
  const ip = (await until(kube, () => kube.state.get('services', 'toygres', 'db')?.status?.loadBalancer?.ingress?.[0]?.ip, 10_000)) as string
  await query(ip, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'before\')')
  const pid = kube.state.backing.get('toygres/db-0')!.pid

  t.ok(kube.killContainer('toygres', 'db-0'))
  await until(kube, () => { const p = kube.state.get('pods', 'toygres', 'db-0'); return p?.status?.containerStatuses?.[0]?.restartCount === 1 && podState(p) === 'Ready' }, 60_000, 'restarted')
  t.not(kube.state.backing.get('toygres/db-0')!.pid, pid, 'a new postmaster')
  t.same(await query(ip, 'SELECT v FROM kept'), [{ v: 'before' }], 'after the kill')
  const restarted = (await call('GET', '/api/v1/namespaces/toygres/pods/db-0/log')).text
  t.match(restarted, /Skipping initialization/)
  t.match(restarted, /database system was interrupted|not properly shut down/, 'crash recovery, as after a SIGKILL')

  await kube.evictPod('toygres', 'db-0')
  const second = await readyPod(kube, 'db-0', first.metadata.uid)
  t.not(second.metadata.uid, first.metadata.uid)
  t.same(await query(ip, 'SELECT v FROM kept'), [{ v: 'before' }], 'after the eviction, in a new pod')

  await call('PATCH', '/api/v1/namespaces/toygres/services/db', { spec: { loadBalancerSourceRanges: ['10.0.0.0/8'] } }, 'application/merge-patch+json')
  await t.rejects(query(ip, 'SELECT 1', { connectionTimeoutMillis: 500 }), { message: /timeout/i }, 'outside the ranges: dropped')
  await call('PATCH', '/api/v1/namespaces/toygres/services/db', { spec: { loadBalancerSourceRanges: ['10.0.0.0/8', '127.0.0.1/32'] } }, 'application/merge-patch+json')
  t.same(await query(ip, 'SELECT 1 AS one'), [{ one: 1 }], 'inside them: through')
})
