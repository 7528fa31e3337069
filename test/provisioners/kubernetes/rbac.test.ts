// The least-privilege list (src/provisioners/kubernetes/rbac.ts) is exactly
// what the provisioner asks of the API: every method is replayed against the
// fake, whose request log records each call as the API server's RequestInfo
// (what RBAC matches) sees it.
import t from 'tap'
import { API_RULES } from '../../../src/provisioners/kubernetes/rbac.ts'
import { deployInput, harness, never, INSTANCE_ID } from './helpers.ts'

const ref = { namespace: 'toygres', instance_name: 'orders', instance_id: INSTANCE_ID }

t.test('every call is listed, and every listed permission is used', { timeout: 120_000 }, async t => {
  const { kube, provisioner } = await harness(t, { crashes: [], nodes: [{ name: 'n1', region: 'westeurope' }] })
  const signal = new AbortController().signal
  await provisioner.unreachableReason(signal)
  await provisioner.serverNames({ namespace: 'toygres', instance_name: 'orders', dns_label: 'orders-db' })
  await provisioner.deployPostgres(deployInput(), never())
  await provisioner.waitForReady({ ...ref, timeout_seconds: 60 }, never())
  await provisioner.getConnectionStrings({ ...ref, use_load_balancer: true, dns_label: 'orders-db', timeout_seconds: 60 }, never())
  await provisioner.restartPostgres({ ...ref, timeout_seconds: 60 }, never())
  await provisioner.stopPostgres({ ...ref, timeout_seconds: 60 }, never())
  await provisioner.startPostgres({ ...ref, timeout_seconds: 60 }, never())
  await provisioner.setPassword({ ...ref, password: 'another' }, never())
  await provisioner.resizeStorage({ ...ref, storage_size_gb: 11, timeout_seconds: 600 }, never())
  await provisioner.applyLabels({ ...ref, labels: { team: 'x' } }, never())
  await provisioner.applyNetwork({ ...ref, allowed_cidrs: ['10.0.0.0/8'] }, never())
  for await (const line of provisioner.readLogs({ ...ref, tail: 5, follow: false }, signal)) void line
  await provisioner.deletePostgres({ ...ref, timeout_seconds: 60 }, never())
  // A crash loop reads the log of the previous container.
  const crashing = await harness(t, { crashes: ['crashy/postgres'] }, { image: 'crashy/postgres' })
  await crashing.provisioner.deployPostgres(deployInput(), never())
  await crashing.provisioner.waitForReady({ ...ref, timeout_seconds: 60 }, never()).catch(() => {})

  // GET namespaces/<name> carries the name as its namespace (requestinfo.go); it is still a cluster-scoped resource.
  const scope = (r: { namespace: string, resource: string }): string => r.namespace && r.resource !== 'namespaces' ? 'namespace' : 'cluster'
  const made = new Set([...kube.requests, ...crashing.kube.requests].map(r => `${r.apiGroup}|${r.subresource ? `${r.resource}/${r.subresource}` : r.resource}|${r.verb}|${scope(r)}`))
  const allowed = new Set(API_RULES.flatMap(rule => rule.verbs.map(v => `${rule.apiGroup}|${rule.resource}|${v}|${rule.scope}`)))
  t.same([...made].filter(m => !allowed.has(m)).sort(), [], 'no call outside the list')
  t.same([...allowed].filter(a => !made.has(a)).sort(), [], 'no permission that is never used')
})
