// deploy → wait → connection strings → a real TLS connection verified
// against the CA → delete → nothing left: the whole life of an instance
// against the fake cluster (realistic profile: slow volumes, a throttled
// first pull, a late load balancer), whose pod is a real PostgreSQL started
// from the pod spec, with the certificate and pg_hba.conf it mounts.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import pg from 'pg'
import { deployInput, harness, never, TEST_TLS, withPassword } from './helpers.ts'

t.test('an instance from deploy to delete, connected to for real over verified TLS', { timeout: 120_000 }, async t => {
  // The load balancer's address comes well after the first wait report, however loaded the machine (the realistic 200 ms need not).
  const { kube, provisioner, logs } = await harness(t, { realPostgres: true, loadBalancerDelayMs: 5000 }, { region: 'eastus' })
  const input = deployInput({ dns_label: 'orders-db' })
  const ref = { namespace: input.namespace, instance_name: input.instance_name, instance_id: input.instance_id }

  const started = performance.now()
  const deployed = await provisioner.deployPostgres(input, never())
  t.same(deployed.created, ['Namespace/toygres', 'Secret/orders-credentials', 'Secret/orders-tls', 'ConfigMap/orders-config', 'Service/orders-headless', 'Service/orders', 'StatefulSet/orders'])
  t.same(deployed.existing, [])
  const waiting = never()
  const ready = await provisioner.waitForReady({ ...ref, timeout_seconds: 60 }, waiting)
  t.comment(`deploy → ready against the realistic fake with a real PostgreSQL: ${(performance.now() - started).toFixed(0)} ms`)
  t.match(ready, { ready: true, pod_name: 'orders-0' })
  t.ok(waiting.reports.some(r => /^PersistentVolumeClaim data-orders-0 is not bound yet/.test(r)), 'said it waited for the volume')
  t.ok(waiting.reports.some(r => /^pulling postgres:17: 429 Too Many Requests, retrying/.test(r)), 'said it waited for the throttled pull')
  t.ok(waiting.reports.some(r => /also waiting for the load balancer's address/.test(r)), 'said the load balancer was on its way')

  const strings = await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: 'orders-db', timeout_seconds: 300 }, never())
  const ip = strings.external_ip!
  t.match(ip, /^127\.0\.0\.(\d+)$/)
  t.not(ip, '127.0.0.1')
  t.same(strings, {
    ip_connection_string: `postgresql://postgres@${ip}:5432/postgres?sslmode=require`,
    dns_connection_string: 'postgresql://postgres@orders-db.eastus.cloudapp.azure.com:5432/postgres?sslmode=require',
    external_ip: ip,
    dns_name: 'orders-db.eastus.cloudapp.azure.com'
  }, 'region from config')

  // The password is added by whoever connects; the server's certificate chains to the CA.
  const url = withPassword(strings.ip_connection_string, input.password).replace('?sslmode=require', '')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, ssl: { ca: TEST_TLS.ca_pem, checkServerIdentity: () => undefined } })
  await client.connect()
  const { rows } = await client.query('SELECT version(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
  await client.end()
  t.match(rows[0].version, /^PostgreSQL \d+/)
  t.equal(rows[0].ssl, true, 'a TLS session')

  const plain = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, ssl: false })
  await t.rejects(plain.connect(), { message: /no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres", database "postgres", no encryption/ }, 'plain TCP is refused')
  await plain.end().catch(() => {})

  const backing = kube.state.backing.get('toygres/orders-0')!
  t.ok(backing.pid, 'a real postmaster backs the pod')
  t.ok(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0'), 'the StatefulSet made its claim')

  const deleting = never()
  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 300 }, deleting), { deleted: true })
  for (const resource of ['secrets', 'configmaps', 'services', 'statefulsets', 'pods', 'persistentvolumeclaims']) {
    t.same(kube.state.list(resource, 'toygres'), [], `no ${resource} left`)
  }
  t.ok(kube.state.get('namespaces', undefined, 'toygres'), 'the shared namespace stays')
  t.equal(kube.state.backing.size, 0)
  t.notOk(isRunning(backing.pid!), 'the postmaster is gone')
  t.notOk(existsSync(backing.dataDir), 'its data is removed')

  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 300 }, never()), { deleted: false }, 'nothing left to delete')

  const everything = JSON.stringify([deployed, ready, strings, waiting.reports, deleting.reports]) + logs.join('')
  t.notOk(everything.includes(input.password), 'no output, progress or log line holds the password')
  t.notOk(everything.includes(TEST_TLS.key_pem.split('\n')[1]!), 'nor the private key')
  t.ok(logs.length >= 4, 'the activities did log')
})

/** Alive and not a zombie: pg_ctl detaches the postmaster, and a container's pid 1 may never reap it. */
function isRunning (pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z'
  } catch {
    return false
  }
}
