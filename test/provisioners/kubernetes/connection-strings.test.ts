// What get-connection-strings returns for each kind of Service and ingress:
// sslmode=require always (the server takes nothing else), a hostname
// ingress (AWS) reported as a name, never as an address.
import t from 'tap'
import { deployInput, harness, never, INSTANCE_ID } from './helpers.ts'

const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID }

t.test('a hostname ingress (AWS-style) and the region from a node label', async t => {
  const { provisioner, logs } = await harness(t, { loadBalancer: 'hostname', nodes: [{ name: 'n0' }, { name: 'n1', region: 'northeurope' }] })
  await provisioner.deployPostgres(deployInput({ dns_label: 'orders-dns' }), never())
  t.same(await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: 'orders-dns', timeout_seconds: 300 }, never()), {
    ip_connection_string: 'postgresql://postgres@orders-toygres.lb.fake.invalid:5432/postgres?sslmode=require',
    dns_connection_string: 'postgresql://postgres@orders-dns.northeurope.cloudapp.azure.com:5432/postgres?sslmode=require',
    external_ip: null,
    dns_name: 'orders-dns.northeurope.cloudapp.azure.com'
  })
  t.same(await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 300 }, never()), {
    ip_connection_string: 'postgresql://postgres@orders-toygres.lb.fake.invalid:5432/postgres?sslmode=require',
    dns_connection_string: 'postgresql://postgres@orders-toygres.lb.fake.invalid:5432/postgres?sslmode=require',
    external_ip: null,
    dns_name: 'orders-toygres.lb.fake.invalid'
  }, 'without a DNS label, the hostname is the DNS name')
  t.notOk(logs.join('').includes(deployInput().password))
})

t.test('an IP ingress without a DNS label', async t => {
  const { provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput(), never())
  const out = await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 300 }, never())
  t.match(out.external_ip, /^127\.0\.0\.\d+$/)
  t.equal(out.ip_connection_string, `postgresql://postgres@${out.external_ip}:5432/postgres?sslmode=require`)
  t.equal(out.dns_name, null)
  t.equal(out.dns_connection_string, null)
})

t.test('ClusterIP: the in-cluster DNS name', async t => {
  const { kube, provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput({ use_load_balancer: false }), never())
  t.equal(kube.state.get('services', 'toygres', 'orders')?.spec.type, 'ClusterIP')
  t.same(await provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 300 }, never()), {
    ip_connection_string: 'postgresql://postgres@orders.toygres.svc.cluster.local:5432/postgres?sslmode=require',
    dns_connection_string: 'postgresql://postgres@orders.toygres.svc.cluster.local:5432/postgres?sslmode=require',
    external_ip: null,
    dns_name: 'orders.toygres.svc.cluster.local'
  })
})

t.test('a DNS label with no region anywhere is a clear error', async t => {
  const { provisioner } = await harness(t)
  await provisioner.deployPostgres(deployInput({ dns_label: 'x' }), never())
  await t.rejects(provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: 'x', timeout_seconds: 300 }, never()), { name: 'PermanentProvisionerError', message: /topology\.kubernetes\.io\/region/ })
  await t.rejects(provisioner.serverNames({ namespace: 'toygres', instance_name: 'orders', dns_label: 'x' }), { name: 'PermanentProvisionerError', message: /topology\.kubernetes\.io\/region/ }, 'and the certificate cannot name it either')
})

t.test('the server certificate names the Service, the pod and the DNS label', async t => {
  const { provisioner } = await harness(t, {}, { region: 'westeurope' })
  t.same(await provisioner.serverNames({ namespace: 'shop', instance_name: 'ledger', dns_label: 'ledger-db' }), {
    dns: ['ledger', 'ledger.shop', 'ledger.shop.svc', 'ledger.shop.svc.cluster.local', 'ledger-0.ledger-headless.shop.svc.cluster.local', 'ledger-db.westeurope.cloudapp.azure.com'],
    ip: []
  })
  t.same((await provisioner.serverNames({ namespace: 'shop', instance_name: 'ledger', dns_label: null })).dns.length, 5)
})

t.test('the load balancer comes late: the wait says so, then returns its address', async t => {
  const { kube, provisioner } = await harness(t, { loadBalancerDelayMs: 1500 })
  await provisioner.deployPostgres(deployInput(), never())
  const ctx = never()
  const out = await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: null, timeout_seconds: 30 }, ctx)
  t.match(out.external_ip, /^127\.0\.0\.\d+$/)
  t.equal(ctx.reports[0], 'waiting for the load balancer\'s address')
  t.match(kube.kubeEvents('toygres', 'orders', 'Service').map(e => e.reason), ['EnsuringLoadBalancer', 'EnsuredLoadBalancer'])
})

t.test('a cluster with its own DNS domain: connection strings and certificate names end in it', async t => {
  const { provisioner } = await harness(t, {}, { clusterDomain: 'corp.internal' })
  await provisioner.deployPostgres(deployInput({ use_load_balancer: false }), never())
  t.match(await provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 300 }, never()), {
    ip_connection_string: 'postgresql://postgres@orders.toygres.svc.corp.internal:5432/postgres?sslmode=require',
    dns_name: 'orders.toygres.svc.corp.internal'
  })
  const { dns } = await provisioner.serverNames({ namespace: 'toygres', instance_name: 'orders', dns_label: null })
  t.same(dns.filter(n => n.includes('.svc.')), ['orders.toygres.svc.corp.internal', 'orders-0.orders-headless.toygres.svc.corp.internal'])
})
