// Day-2 changes on a running instance, against a real PostgreSQL in the
// fake pod: restart (a new pod, same data), stop and start (the volume is
// kept), the password Secret, labels without a restart, allowed networks on
// the load balancer and in pg_hba.conf, volume growth, and the server's log.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { PermanentProvisionerError } from '../../../src/provisioners/provisioner.ts'
import { deployInput, harness, never, INSTANCE_ID, TEST_TLS } from './helpers.ts'

const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID }
const PASSWORD = deployInput().password
const ssl = { ca: TEST_TLS.ca_pem, checkServerIdentity: () => undefined }

async function query (host: string, sql: string): Promise<any[]> {
  const client = new pg.Client({ host, port: 5432, user: 'postgres', password: PASSWORD, database: 'postgres', ssl, connectionTimeoutMillis: 5000 })
  await client.connect()
  try { return (await client.query(sql)).rows } finally { await client.end() }
}

async function poll<T> (check: () => T | undefined | Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

t.test('restart, stop, start, password, labels, network, resize and logs on a real server', { timeout: 180_000 }, async t => {
  const { kube, provisioner } = await harness(t, { realPostgres: true })
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ ...ref, timeout_seconds: 60 }, never())
  const ip = (await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 60 }, never())).external_ip!
  await query(ip, 'CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'before\')')
  const pod = () => kube.state.get('pods', 'toygres', 'orders-0')

  t.test('restart: a new pod on the same data', async t => {
    const before = pod()!.metadata.uid
    const ctx = never()
    const { process } = await provisioner.restartPostgres({ ...ref, timeout_seconds: 60 }, ctx)
    t.not(process, before)
    t.equal(process, pod()!.metadata.uid, 'the new pod\'s uid')
    t.ok(ctx.reports.length > 0, `said what it waited for: ${ctx.reports.join(' | ')}`)
    t.same(await query(ip, 'SELECT v FROM kept'), [{ v: 'before' }])
  })

  t.test('stop keeps the volume; start brings the data back', async t => {
    t.same(await provisioner.stopPostgres({ ...ref, timeout_seconds: 60 }, never()), { changed: true, detail: 'StatefulSet orders scaled to 0: pod orders-0 stopped, volume data-orders-0 kept' })
    t.equal(pod(), undefined, 'no pod')
    t.equal(kube.state.backing.size, 0, 'no server')
    t.ok(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0'), 'the volume stays')
    t.same((await provisioner.stopPostgres({ ...ref, timeout_seconds: 60 }, never())).changed, false, 'a repeat changes nothing')
    await t.rejects(provisioner.waitForReady({ ...ref, timeout_seconds: 60 }, never()), { message: /the instance is stopped/ })
    await t.rejects(provisioner.restartPostgres({ ...ref, timeout_seconds: 60 }, never()), { name: 'PermanentProvisionerError', message: /stopped.*start it instead/ })
    t.match(await provisioner.startPostgres({ ...ref, timeout_seconds: 60 }, never()), { changed: true, detail: 'StatefulSet orders scaled to 1: pod orders-0 is Ready' })
    t.same((await provisioner.startPostgres({ ...ref, timeout_seconds: 60 }, never())).changed, false)
    await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 60 }, never())
    t.same(await query(ip, 'SELECT v FROM kept'), [{ v: 'before' }])
  })

  t.test('the password Secret follows a new password; the server logs no statement, not even a failing one', async t => {
    t.same(await query(ip, "SELECT current_setting('log_statement') AS s, current_setting('log_min_error_statement') AS e"), [{ s: 'none', e: 'panic' }])
    t.same(await provisioner.setPassword({ ...ref, password: 'n3w-pässword' }, never()), { changed: true, detail: 'Secret orders-credentials holds the new password' })
    t.equal(Buffer.from(kube.state.get('secrets', 'toygres', 'orders-credentials')!.data!.password!, 'base64').toString(), 'n3w-pässword')
    t.equal((await provisioner.setPassword({ ...ref, password: 'n3w-pässword' }, never())).changed, false)
    await provisioner.setPassword({ ...ref, password: PASSWORD }, never())
  })

  t.test('labels on every object, the pod labelled in place (no restart)', async t => {
    const uid = pod()!.metadata.uid
    const template = JSON.stringify(kube.state.get('statefulsets', 'toygres', 'orders')!.spec.template)
    t.equal((await provisioner.applyLabels({ ...ref, labels: { team: 'payments', tier: 'gold' } }, never())).changed, true)
    const all = () => ['secrets', 'configmaps', 'services', 'statefulsets', 'persistentvolumeclaims', 'pods'].flatMap(r => kube.state.list(r, 'toygres'))
    t.equal(all().length, 8)
    for (const o of all()) t.match(o.metadata.labels, { team: 'payments', tier: 'gold', 'toygres.io/instance-id': INSTANCE_ID }, `${o.kind} ${o.metadata.name}`)
    t.equal(pod()!.metadata.uid, uid, 'the same pod: not restarted')
    t.equal(JSON.stringify(kube.state.get('statefulsets', 'toygres', 'orders')!.spec.template), template, 'the pod template is untouched')
    await provisioner.applyLabels({ ...ref, labels: { tier: 'silver' } }, never())
    for (const o of all()) {
      t.equal(o.metadata.labels?.team, undefined, `${o.kind}: a dropped label goes`)
      t.equal(o.metadata.labels?.tier, 'silver')
      t.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'orders', 'ours stay')
    }
    t.equal((await provisioner.applyLabels({ ...ref, labels: { tier: 'silver' } }, never())).changed, false)
    await t.rejects(provisioner.applyLabels({ ...ref, labels: { 'toygres.io/instance-id': 'x' } }, never()), PermanentProvisionerError)
  })

  t.test('allowed networks: the load balancer\'s ranges and pg_hba.conf, which the caller reloads', async t => {
    const inside = new pg.Client({ host: ip, port: 5432, user: 'postgres', password: PASSWORD, database: 'postgres', ssl })
    await inside.connect()
    t.teardown(() => inside.end().catch(() => {}))
    const podIP = pod()!.status.podIP as string
    const file = join(kube.state.backing.get('toygres/orders-0')!.dataDir, 'volumes', 'config', 'pg_hba.conf')

    const out = await provisioner.applyNetwork({ ...ref, allowed_cidrs: ['10.0.0.0/8'] }, never())
    t.equal(out.changed, true)
    t.match(out.detail, /^pg_hba\.conf in ConfigMap orders-config and loadBalancerSourceRanges of Service orders now allow 10\.0\.0\.0\/8/)
    t.same(kube.state.get('services', 'toygres', 'orders')!.spec.loadBalancerSourceRanges, ['10.0.0.0/8'])
    await poll(() => readFileSync(file, 'utf8').includes('10.0.0.0/8') || undefined, 'the kubelet to write pg_hba.conf into the pod')
    await inside.query('SELECT pg_reload_conf()')
    await t.rejects(query(podIP, 'SELECT 1'), { message: /no pg_hba\.conf entry for host "127\.0\.0\.1"/ }, 'the server itself refuses a network outside the list')
    await t.rejects(new pg.Client({ host: ip, port: 5432, user: 'postgres', password: PASSWORD, ssl, connectionTimeoutMillis: 500 }).connect(), { message: /timeout/i }, 'and the load balancer drops it')

    t.equal((await provisioner.applyNetwork({ ...ref, allowed_cidrs: null }, never())).changed, true)
    t.equal(kube.state.get('services', 'toygres', 'orders')!.spec.loadBalancerSourceRanges, undefined, 'open again')
    await poll(() => readFileSync(file, 'utf8').includes('0.0.0.0/0') || undefined, 'the open rules in the pod')
    await inside.query('SELECT pg_reload_conf()')
    t.same(await query(ip, 'SELECT 1 AS one'), [{ one: 1 }])
    t.equal((await provisioner.applyNetwork({ ...ref, allowed_cidrs: null }, never())).changed, false)
  })

  t.test('the volume grows; it never shrinks', async t => {
    const ctx = never()
    t.same(await provisioner.resizeStorage({ ...ref, storage_size_gb: 20, timeout_seconds: 600 }, ctx), { changed: true, detail: 'volume data-orders-0 grown from 10Gi to 20Gi' })
    t.equal(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0')!.status.capacity.storage, '20Gi')
    t.ok(ctx.reports.some(r => /^volume data-orders-0 is growing to 20Gi \(/.test(r)), ctx.reports.join(' | '))
    t.same(await provisioner.resizeStorage({ ...ref, storage_size_gb: 20, timeout_seconds: 600 }, never()), { changed: false, detail: 'volume data-orders-0 is already 20Gi' })
    await t.rejects(provisioner.resizeStorage({ ...ref, storage_size_gb: 5, timeout_seconds: 600 }, never()), { name: 'PermanentProvisionerError', message: 'volume data-orders-0 is 20Gi and cannot shrink to 5Gi: Kubernetes volumes only grow' })
  })

  t.test('the server\'s log: its tail, then new lines while following', async t => {
    const tail: string[] = []
    for await (const line of provisioner.readLogs({ ...ref, tail: 3, follow: false }, new AbortController().signal)) tail.push(line)
    t.equal(tail.length, 3)
    const ac = new AbortController()
    const seen: string[] = []
    const following = (async () => {
      for await (const line of provisioner.readLogs({ ...ref, tail: 1, follow: true }, ac.signal)) {
        seen.push(line)
        if (line.includes('division by zero')) ac.abort()
      }
    })()
    await poll(() => seen.length > 0 || undefined, 'the first line')
    await t.rejects(query(ip, 'SELECT 1/0'), { message: /division by zero/ })
    await following
    t.ok(seen.some(l => /ERROR: {2}division by zero/.test(l)), 'a line written after the follow began')
  })
})

t.test('a StorageClass without expansion: a clear refusal naming it', async t => {
  const { kube, provisioner } = await harness(t, { defaultStorageClass: { name: 'standard-hdd', allowVolumeExpansion: false } })
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never())
  await t.rejects(provisioner.resizeStorage({ ...ref, storage_size_gb: 20, timeout_seconds: 600 }, never()), {
    name: 'PermanentProvisionerError',
    message: 'volume data-orders-0 cannot grow: its StorageClass "standard-hdd" does not allow volume expansion (allowVolumeExpansion is not true)'
  })
  t.equal(kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0')!.spec.resources.requests.storage, '10Gi', 'not touched')
})

t.test('a stopped instance grows its volume when it next starts', async t => {
  const { kube, provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ ...ref, timeout_seconds: 30 }, never())
  await provisioner.stopPostgres({ ...ref, timeout_seconds: 30 }, never())
  t.same(await provisioner.resizeStorage({ ...ref, storage_size_gb: 15, timeout_seconds: 600 }, never()), { changed: true, detail: 'volume data-orders-0 resized to 15Gi; its file system grows when the instance next starts' })
  await provisioner.startPostgres({ ...ref, timeout_seconds: 30 }, never())
  await poll(() => kube.state.get('persistentvolumeclaims', 'toygres', 'data-orders-0')!.status.capacity.storage === '15Gi' || undefined, 'the capacity')
})

t.test('logs of a pod that is not running yet: the kubelet\'s reason', async t => {
  const { kube, provisioner } = await harness(t, { volumeBindingDelayMs: 60_000 })
  await provisioner.deployPostgres(deployInput(), never())
  await poll(() => kube.state.get('pods', 'toygres', 'orders-0'), 'the pod')
  await t.rejects((async () => { for await (const l of provisioner.readLogs({ ...ref, tail: 10, follow: false }, new AbortController().signal)) void l })(), { message: /pod orders-0 does not have a host assigned/ })
})
