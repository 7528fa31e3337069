// deploy → wait → connection strings → a real connection with the password →
// delete → nothing left: the whole life of an instance against the fake
// cluster, whose pod is a real PostgreSQL on a loopback address.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import pg from 'pg'
import { deployInput, harness, never, withPassword } from './helpers.ts'

t.test('an instance from deploy to delete, connected to for real', { timeout: 120_000 }, async t => {
  const { kube, provisioner, logs } = await harness(t, { realPostgres: true }, { region: 'eastus' })
  const input = deployInput({ dns_label: 'orders-db' })
  const ref = { namespace: input.namespace, instance_name: input.instance_name, instance_id: input.instance_id }

  const started = performance.now()
  const deployed = await provisioner.deployPostgres(input, never())
  t.same(deployed.created, ['Namespace/toygres', 'Secret/orders-credentials', 'Service/orders-headless', 'Service/orders', 'StatefulSet/orders'])
  t.same(deployed.existing, [])
  const ready = await provisioner.waitForReady({ ...ref, timeout_seconds: 60 }, never())
  const readyMs = performance.now() - started
  t.comment(`deploy → ready against the fake with a real PostgreSQL: ${readyMs.toFixed(0)} ms`)
  t.match(ready, { ready: true, pod_name: 'orders-0' })

  const strings = await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: 'orders-db', timeout_seconds: 300 }, never())
  const ip = strings.external_ip!
  t.match(ip, /^127\.0\.0\.(\d+)$/)
  t.not(ip, '127.0.0.1')
  t.same(strings, {
    ip_connection_string: `postgresql://postgres@${ip}:5432/postgres`,
    dns_connection_string: 'postgresql://postgres@orders-db.eastus.cloudapp.azure.com:5432/postgres',
    external_ip: ip,
    dns_name: 'orders-db.eastus.cloudapp.azure.com'
  }, 'region from config')

  // The password is added by whoever connects, as the orchestration will.
  const client = new pg.Client({ connectionString: withPassword(strings.ip_connection_string, input.password), connectionTimeoutMillis: 10_000 })
  await client.connect()
  const { rows } = await client.query('SELECT version()')
  await client.end()
  t.match(rows[0].version, /^PostgreSQL \d+/)

  const backing = kube.state.backing.get('toygres/orders-0')!
  t.ok(backing.pid, 'a real postmaster backs the pod')
  t.ok(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0'), 'the StatefulSet made its claim')

  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 300 }, never()), { deleted: true })
  for (const resource of ['secrets', 'services', 'statefulsets', 'pods', 'persistentvolumeclaims']) {
    t.same(kube.state.list(resource, 'toygres'), [], `no ${resource} left`)
  }
  t.ok(kube.state.get('namespaces', undefined, 'toygres'), 'the shared namespace stays')
  t.equal(kube.state.backing.size, 0)
  t.notOk(isRunning(backing.pid!), 'the postmaster is gone')
  t.notOk(existsSync(backing.dataDir), 'its data is removed')

  t.same(await provisioner.deletePostgres({ ...ref, timeout_seconds: 300 }, never()), { deleted: false }, 'nothing left to delete')

  const everything = JSON.stringify([deployed, ready, strings]) + logs.join('')
  t.notOk(everything.includes(input.password), 'no output or log line holds the password')
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
