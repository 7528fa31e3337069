// The manifests as plain data: every combination the API offers, each object
// validated against the official Kubernetes schemas.
import t from 'tap'
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import {
  AZURE_DNS_LABEL_ANNOTATION, buildHeadlessService, buildNamespace, buildSecret, buildService, buildStatefulSet
} from '../../../src/provisioners/kubernetes/manifests.ts'
import { objectNames } from '../../../src/provisioners/kubernetes/names.ts'
import { assertValidSpec, type InstanceSpec } from '../../../src/provisioners/kubernetes/spec.ts'
import { PermanentProvisionerError } from '../../../src/provisioners/provisioner.ts'

const PASSWORD = 'S3cr3t-manifest-pw'
const LABELS = { 'app.kubernetes.io/name': 'postgresql', 'app.kubernetes.io/instance': 'orders', 'app.kubernetes.io/managed-by': 'toygres' }

function spec (over: Partial<InstanceSpec> = {}): InstanceSpec {
  return { namespace: 'toygres', instance_name: 'orders', postgres_version: '17', storage_size_gb: 10, use_load_balancer: true, dns_label: null, image: 'postgres', ...over }
}

for (const version of ['15', '16', '17', '18']) {
  for (const lb of [true, false]) {
    for (const dns of [null, 'orders-dns']) {
      t.test(`v${version} lb=${lb} dns=${dns}`, async t => {
        const s = spec({ postgres_version: version, use_load_balancer: lb, dns_label: dns })
        const objects = {
          namespace: buildNamespace(s.namespace),
          secret: buildSecret(s, PASSWORD),
          headless: buildHeadlessService(s),
          service: buildService(s),
          sts: buildStatefulSet(s)
        }
        new Namespace(objects.namespace as never).validate()
        new Secret(objects.secret as never).validate()
        new Service(objects.headless as never).validate()
        new Service(objects.service as never).validate()
        new StatefulSet(objects.sts as never).validate()

        // The password lives in the Secret and nowhere else.
        t.equal(objects.secret.stringData?.password, PASSWORD)
        t.equal(objects.secret.type, 'Opaque')
        for (const [k, o] of Object.entries(objects)) {
          if (k !== 'secret') t.notOk(JSON.stringify(o).includes(PASSWORD), `${k} has no password`)
        }

        for (const o of [objects.secret, objects.headless, objects.service, objects.sts]) t.same(o.metadata?.labels, LABELS)
        t.equal(objects.service.spec?.type, lb ? 'LoadBalancer' : 'ClusterIP')
        t.same(objects.service.metadata?.annotations, dns ? { [AZURE_DNS_LABEL_ANNOTATION]: dns } : undefined)
        t.equal(objects.headless.spec?.clusterIP, 'None')

        const sts = objects.sts.spec!
        const pod = sts.template.spec!
        const c = pod.containers[0]!
        t.equal(sts.replicas, 1)
        t.equal(sts.serviceName, 'orders-headless')
        t.equal(c.image, `postgres:${version}`)
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
        for (const p of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
          t.same(p?.exec?.command, ['pg_isready', '-U', 'postgres', '-h', '127.0.0.1'])
        }
        t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 999, runAsGroup: 999, fsGroup: 999 })
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
    spec({ postgres_version: '14' }), spec({ storage_size_gb: 0 })
  ]) {
    t.throws(() => assertValidSpec(bad), PermanentProvisionerError)
  }
})
