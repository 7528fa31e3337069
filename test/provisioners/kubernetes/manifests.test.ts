// The manifests as plain data: every combination the API offers, each object
// validated against the official Kubernetes schemas.
import t from 'tap'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import {
  AZURE_DNS_LABEL_ANNOTATION, buildConfigMap, buildHeadlessService, buildNamespace, buildSecret, buildService, buildStatefulSet, buildTlsSecret
} from '../../../src/provisioners/kubernetes/manifests.ts'
import { objectNames } from '../../../src/provisioners/kubernetes/names.ts'
import { hostsslNetworks, pgHbaConf } from '../../../src/provisioners/kubernetes/pg-hba.ts'
import { assertValidSpec, labelProblem, type InstanceSpec } from '../../../src/provisioners/kubernetes/spec.ts'
import { PermanentProvisionerError } from '../../../src/provisioners/provisioner.ts'

const PASSWORD = 'S3cr3t-manifest-pw'
const TLS = { ca_pem: 'CA PEM', cert_pem: 'CERT PEM', key_pem: 'KEY PEM' }
const MARK = { instanceId: '00000000-0000-4000-8000-000000000001', controlPlane: 'plane-a' }
const LABELS = {
  'app.kubernetes.io/name': 'postgresql',
  'app.kubernetes.io/instance': 'orders',
  'app.kubernetes.io/managed-by': 'toygres',
  'toygres.io/instance-id': MARK.instanceId,
  'toygres.io/control-plane': 'plane-a'
}

function spec (over: Partial<InstanceSpec> = {}): InstanceSpec {
  return { namespace: 'toygres', instance_name: 'orders', postgres_version: '17', storage_size_gb: 10, use_load_balancer: true, dns_label: null, allowed_cidrs: null, control_plane_cidrs: ['10.244.0.0/16'], labels: {}, mark: MARK, image: 'postgres', ...over }
}

for (const version of ['15', '16', '17', '18']) {
  for (const lb of [true, false]) {
    for (const dns of [null, 'orders-dns']) {
      t.test(`v${version} lb=${lb} dns=${dns}`, async t => {
        const s = spec({ postgres_version: version, use_load_balancer: lb, dns_label: dns })
        const objects = {
          namespace: buildNamespace(s.namespace),
          secret: buildSecret(s, PASSWORD),
          tls: buildTlsSecret(s, TLS),
          config: buildConfigMap(s),
          headless: buildHeadlessService(s),
          service: buildService(s),
          sts: buildStatefulSet(s)
        }
        new Namespace(objects.namespace as never).validate()
        new Secret(objects.secret as never).validate()
        new Secret(objects.tls as never).validate()
        new ConfigMap(objects.config as never).validate()
        new Service(objects.headless as never).validate()
        new Service(objects.service as never).validate()
        new StatefulSet(objects.sts as never).validate()

        // The password lives in the Secret and nowhere else; the key in the TLS Secret.
        t.equal(objects.secret.stringData?.password, PASSWORD)
        t.equal(objects.secret.type, 'Opaque')
        for (const [k, o] of Object.entries(objects)) {
          if (k !== 'secret') t.notOk(JSON.stringify(o).includes(PASSWORD), `${k} has no password`)
          if (k !== 'tls') t.notOk(JSON.stringify(o).includes(TLS.key_pem), `${k} has no private key`)
        }
        t.equal(objects.tls.type, 'kubernetes.io/tls')
        t.same(objects.tls.stringData, { 'tls.crt': 'CERT PEM', 'tls.key': 'KEY PEM', 'ca.crt': 'CA PEM' })

        for (const o of [objects.secret, objects.tls, objects.config, objects.headless, objects.service, objects.sts]) {
          t.same(o.metadata?.labels, LABELS, `${o.kind} ${o.metadata?.name} carries the mark`)
        }
        t.equal(objects.service.spec?.type, lb ? 'LoadBalancer' : 'ClusterIP')
        t.equal(objects.service.metadata?.annotations?.[AZURE_DNS_LABEL_ANNOTATION], dns ?? undefined)
        t.equal(objects.headless.spec?.clusterIP, 'None')

        const sts = objects.sts.spec!
        const pod = sts.template.spec!
        const c = pod.containers[0]!
        t.equal(sts.replicas, 1)
        t.equal(sts.serviceName, 'orders-headless')
        t.same(sts.selector.matchLabels, { 'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/instance': 'orders' }, 'the immutable selector stays minimal')
        t.same(sts.template.metadata?.labels, LABELS, 'pods carry the mark')
        t.same(sts.volumeClaimTemplates?.[0]?.metadata?.labels, LABELS, 'claims carry the mark')
        t.equal(c.image, `postgres:${version}`)
        t.same(c.args, ['-c', 'ssl=on', '-c', 'ssl_cert_file=/etc/postgresql/tls/tls.crt', '-c', 'ssl_key_file=/etc/postgresql/tls/tls.key', '-c', 'hba_file=/etc/postgresql/config/pg_hba.conf', '-c', 'log_statement=none', '-c', 'log_min_error_statement=panic'])
        const pw = c.env?.find(e => e.name === 'POSTGRES_PASSWORD')
        t.same(pw, { name: 'POSTGRES_PASSWORD', valueFrom: { secretKeyRef: { name: 'orders-credentials', key: 'password' } } })
        const pgdata = c.env?.find(e => e.name === 'PGDATA')?.value
        const mount = c.volumeMounts?.find(m => m.name === 'data')?.mountPath
        if (version === '18') {
          t.equal(mount, '/var/lib/postgresql')
          t.equal(pgdata, '/var/lib/postgresql/18/docker')
        } else {
          t.equal(mount, '/var/lib/postgresql/data')
          t.equal(pgdata, '/var/lib/postgresql/data/pgdata')
        }
        t.not(pgdata, mount, 'PGDATA is a subdirectory of the volume (lost+found)')
        t.same(c.volumeMounts?.filter(m => m.readOnly).map(m => [m.name, m.mountPath]), [['tls', '/etc/postgresql/tls'], ['config', '/etc/postgresql/config']])
        const tlsVolume = pod.volumes?.find(v => v.name === 'tls')
        t.same(tlsVolume?.secret, { secretName: 'orders-tls', defaultMode: 0o600, items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] }, 'the key is 0600 (0640 root:fsGroup in the pod)')
        t.same(pod.volumes?.find(v => v.name === 'config')?.configMap, { name: 'orders-config', items: [{ key: 'pg_hba.conf', path: 'pg_hba.conf' }] })
        for (const p of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
          t.same(p?.exec?.command, ['pg_isready', '-U', 'postgres', '-h', '127.0.0.1'])
        }
        t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 })
        t.equal(pod.automountServiceAccountToken, false)
        t.ok(c.resources?.requests?.cpu && c.resources.requests.memory)
        t.ok((pod.terminationGracePeriodSeconds ?? 0) >= 30)
        const vct = sts.volumeClaimTemplates![0]!
        t.equal(vct.metadata?.name, 'data')
        t.same(vct.spec?.resources?.requests, { storage: '10Gi' })
        t.equal(vct.spec?.storageClassName, undefined)
        // The selector must match the template, or the API server rejects the StatefulSet.
        for (const [k, v] of Object.entries(sts.selector.matchLabels!)) t.equal(sts.template.metadata?.labels?.[k], v)
      })
    }
  }
}

t.test('allowed_cidrs: the load balancer\'s source ranges, Local traffic policy, and hostssl lines only', async t => {
  const open = buildService(spec())
  t.same(open.spec?.loadBalancerSourceRanges, undefined, 'null: open')
  t.equal(open.spec?.externalTrafficPolicy, 'Local', 'the client address reaches pg_hba.conf')
  const closed = buildService(spec({ allowed_cidrs: ['203.0.113.0/24', '2001:db8::/32'] }))
  new Service(closed as never).validate()
  t.same(closed.spec?.loadBalancerSourceRanges, ['203.0.113.0/24', '2001:db8::/32'])
  t.same(buildService(spec({ use_load_balancer: false, allowed_cidrs: ['203.0.113.0/24'] })).spec?.loadBalancerSourceRanges, undefined, 'a ClusterIP Service cannot have ranges')

  const hba = buildConfigMap(spec({ allowed_cidrs: ['203.0.113.0/24', '2001:db8::/32'] })).data!['pg_hba.conf']!
  t.same(hostsslNetworks(hba), ['203.0.113.0/24', '2001:db8::/32', '10.244.0.0/16'], 'the users\' networks, then the control plane\'s')
  t.same(hostsslNetworks(pgHbaConf(null, ['10.244.0.0/16'])), ['0.0.0.0/0', '::/0'])
  t.same(hostsslNetworks(pgHbaConf([], ['10.244.0.0/16'])), ['10.244.0.0/16'], 'none: only the socket and the control plane')
  t.same(hostsslNetworks(pgHbaConf(['10.244.0.0/16'], ['10.244.0.0/16'])), ['10.244.0.0/16'], 'once when both name it')
  for (const conf of [hba, pgHbaConf(null, [])]) {
    const network = conf.split('\n').filter(l => /^(host|hostnossl|hostssl|hostgssenc)\s/.test(l))
    t.ok(network.every(l => l.startsWith('hostssl ')), 'no line lets a connection in without TLS')
    t.ok(network.every(l => l.trim().endsWith('scram-sha-256')), 'and none without a password')
  }
})

t.test('user labels: on every object and the pod template, never over ours', async t => {
  const s = spec({ labels: { team: 'payments', 'example.com/cost-centre': 'c-42' } })
  for (const o of [buildSecret(s, 'x'), buildTlsSecret(s, TLS), buildConfigMap(s), buildHeadlessService(s), buildService(s), buildStatefulSet(s)]) {
    t.same(o.metadata?.labels, { team: 'payments', 'example.com/cost-centre': 'c-42', ...LABELS })
    t.equal(o.metadata?.annotations?.['toygres.io/user-labels'], 'example.com/cost-centre,team', 'remembered, so a later change can drop them')
  }
  t.same(buildStatefulSet(s).spec?.template.metadata?.labels, { team: 'payments', 'example.com/cost-centre': 'c-42', ...LABELS })
  for (const [k, v] of [['app.kubernetes.io/instance', 'x'], ['toygres.io/anything', 'x'], ['controller-revision-hash', 'x'], ['bad key', 'x'], ['ok', 'not ok'], ['x'.repeat(64), 'v']]) {
    t.ok(labelProblem(k!, v!), `${k}=${v} is refused`)
    t.throws(() => assertValidSpec(spec({ labels: { [k!]: v! } })), PermanentProvisionerError)
  }
  t.equal(labelProblem('example.com/team', 'a.b-c_d'), undefined)
})

t.test('registry image and storage class', async t => {
  const sts = buildStatefulSet(spec({ image: 'myacr.azurecr.io/library/postgres', storageClass: 'managed-premium', storage_size_gb: 64 }))
  new StatefulSet(sts as never).validate()
  t.equal(sts.spec?.template.spec?.containers[0]?.image, 'myacr.azurecr.io/library/postgres:17')
  t.equal(sts.spec?.volumeClaimTemplates?.[0]?.spec?.storageClassName, 'managed-premium')
  t.same(sts.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests, { storage: '64Gi' })
})

t.test('derived names stay valid for the longest instance name', async t => {
  const name = `a${'b'.repeat(38)}c`
  t.equal(name.length, 40)
  assertValidSpec(spec({ instance_name: name }))
  const names = objectNames(name)
  t.ok(names.statefulSet.length <= 52, 'StatefulSet name leaves room for controller-revision-hash')
  for (const [kind, n] of Object.entries(names)) {
    t.ok(n.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(n), `${kind} ${n} is a DNS-1035 label`)
  }
})

t.test('specs that cannot work are refused before any object is built', async t => {
  for (const bad of [
    spec({ instance_name: 'a'.repeat(41) }), spec({ instance_name: 'Orders' }), spec({ instance_name: '1orders' }),
    spec({ postgres_version: '14' }), spec({ storage_size_gb: 0 }), spec({ allowed_cidrs: ['10.0.0.1'] }), spec({ allowed_cidrs: ['10.0.0.0/33'] })
  ]) {
    t.throws(() => assertValidSpec(bad), PermanentProvisionerError)
  }
})
