// deploy/ as the cluster would get it: both layouts render with kubectl
// kustomize, every object validates against the official schemas (unknown
// fields included), and the objects agree with each other, with the
// Dockerfile and with the configuration the server accepts.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { EnvSchema, loadConfig } from '../../src/config.ts'
import { hasKubectl, readManifest, render, unknownFields, type KubeObject } from './render.ts'

const LAYOUTS = ['.', 'cluster-wide/']
const valid = { DATABASE_URL: 'postgresql://toygres@db.example.com:5432/toygres', TOYGRES_API_TOKEN: 'a'.repeat(64), TOYGRES_SECRET_KEY: 'b'.repeat(64) }

const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v)
const byKind = (objects: KubeObject[], kind: string): KubeObject[] => objects.filter(o => o.kind === kind)
const role = (d: KubeObject): string => d.spec.template.metadata.labels['app.kubernetes.io/component']

/** The environment a Deployment's container gets: its ConfigMap, its own variables, and the Secret's keys filled in. */
function environment (objects: KubeObject[], deployment: KubeObject): Record<string, string> {
  const c = deployment.spec.template.spec.containers[0]
  const env: Record<string, string> = {}
  for (const from of c.envFrom ?? []) {
    const cm = objects.find(o => o.kind === 'ConfigMap' && o.metadata.name === from.configMapRef?.name)
    if (!cm) throw new Error(`${deployment.metadata.name}: envFrom names ConfigMap ${from.configMapRef?.name}, which is not rendered`)
    Object.assign(env, cm.data)
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? valid[e.valueFrom.secretKeyRef.key as keyof typeof valid]
  return env
}

/** The USER of the Dockerfile's last stage, as a number (Kubernetes can only verify runAsNonRoot for a numeric user). */
function dockerfileUser (): string {
  const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')
  return [...text.matchAll(/^USER\s+(\S+)/gm)].at(-1)![1]!
}

t.test('both layouts render, and every object is valid and known to the schemas', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async t => {
  for (const layout of LAYOUTS) {
    const objects = render(layout)
    t.ok(objects.length > 10, `${layout}: ${objects.length} objects`)
    const ids = objects.map(o => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    t.same(ids.filter((id, i) => ids.indexOf(id) !== i), [], `${layout}: no object twice`)
    for (const o of objects) {
      const { [o.kind]: Model } = await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)
      t.doesNotThrow(() => new Model(o).validate(), `${layout}: ${o.kind} ${o.metadata.name} validates`)
      t.same(unknownFields(o), [], `${layout}: ${o.kind} ${o.metadata.name} has no field the schema does not know`)
      const namespaced = !['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)
      t.equal(Boolean(o.metadata.namespace), namespaced, `${layout}: ${o.kind} ${o.metadata.name} ${namespaced ? 'has' : 'has no'} namespace`)
    }
  }
})

t.test('two roles from one image: API replicas behind a Service and a budget, workers behind none', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async t => {
  const objects = render('.')
  const deployments = byKind(objects, 'Deployment')
  t.same(deployments.map(role).sort(), ['api', 'worker'])
  const api = deployments.find(d => role(d) === 'api')!
  const worker = deployments.find(d => role(d) === 'worker')!
  t.equal(api.spec.template.spec.containers[0].image, worker.spec.template.spec.containers[0].image, 'the same image')

  for (const d of deployments) {
    const name = d.metadata.name
    const pod = d.spec.template.spec
    const c = pod.containers[0]
    const env = environment(objects, d)
    t.equal(d.spec.replicas, 2, `${name}: 2 replicas`)
    t.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), `${name}: the selector matches its pods`)
    // Every variable is one the server reads (a typo would be ignored silently).
    const known = new Set([...Object.keys(EnvSchema.properties), 'NODE_ENV', 'NODE_OPTIONS'])
    t.same(Object.keys(env).filter(k => !known.has(k)), [], `${name}: every variable is a Toygres setting`)
    const config = loadConfig(env, '/app')
    t.equal(config.workers.concurrency > 0, role(d) === 'worker', `${name}: TOYGRES_WORKER_CONCURRENCY=${config.workers.concurrency}`)
    t.equal(config.provisioner, 'kubernetes')
    t.equal(config.host, '0.0.0.0', `${name}: reachable by its probes`)
    const port = c.ports.find((p: { name: string }) => p.name === 'http')
    t.equal(port?.containerPort, config.port, `${name}: the container port is the one it listens on`)
    // The heap stays below the memory limit (Mi), with room for everything that is not heap.
    const heap = Number(/--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? '')?.[1])
    t.ok(heap > 0 && heap <= 0.8 * Number(/^(\d+)Mi$/.exec(c.resources.limits.memory)?.[1]), `${name}: heap ${heap} MiB within the ${c.resources.limits.memory} limit`)
    t.match(c.readinessProbe, { httpGet: { path: '/readyz', port: 'http' } }, `${name}: ready when /readyz says so`)
    t.match(c.livenessProbe, { httpGet: { path: '/healthz', port: 'http' } }, `${name}: alive while /healthz answers`)
    t.match(c.startupProbe, { httpGet: { path: '/healthz', port: 'http' } }, `${name}: boot (migrations, pg-boss) is not a liveness failure`)
    // The pod's grace covers the preStop pause and the server's own shutdown grace.
    const pause = c.lifecycle?.preStop?.sleep?.seconds ?? 0
    t.ok(pod.terminationGracePeriodSeconds > pause + config.shutdownGraceMs / 1000, `${name}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > ${pause} + ${config.shutdownGraceMs / 1000}`)
    t.ok(d.spec.strategy.rollingUpdate.maxUnavailable === 0, `${name}: a rollout never drops below its replicas`)
    t.ok(objects.some(o => o.kind === 'ServiceAccount' && o.metadata.name === pod.serviceAccountName && o.metadata.namespace === d.metadata.namespace), `${name}: its ServiceAccount exists`)
  }
  t.not(api.spec.template.spec.serviceAccountName, worker.spec.template.spec.serviceAccountName, 'the API does not hold the workers\' rights')

  const services = byKind(objects, 'Service')
  t.equal(services.length, 1)
  const svc = services[0]!
  t.ok(matches(svc.spec.selector, api.spec.template.metadata.labels), 'the Service selects the API pods')
  t.notOk(matches(svc.spec.selector, worker.spec.template.metadata.labels), 'and not the workers')
  t.same(svc.spec.ports.map((p: { targetPort: unknown }) => p.targetPort), ['http'], 'it targets the API port by name')

  const budgets = byKind(objects, 'PodDisruptionBudget')
  const apiBudget = budgets.find(b => matches(b.spec.selector.matchLabels, api.spec.template.metadata.labels))
  t.ok(apiBudget, 'a PodDisruptionBudget covers the API pods')
  t.ok(apiBudget!.spec.minAvailable >= 1 && apiBudget!.spec.minAvailable < api.spec.replicas, 'it keeps one and lets drains proceed')
  for (const b of budgets) t.ok(deployments.some(d => matches(b.spec.selector.matchLabels, d.spec.template.metadata.labels)), `budget ${b.metadata.name} selects pods`)
})

t.test('every pod is locked down: non-root, read-only root, no capabilities, RuntimeDefault seccomp, bounded resources', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async t => {
  const uid = dockerfileUser()
  t.match(uid, /^\d+(:\d+)?$/, `the image's USER is numeric (${uid})`)
  for (const d of byKind(render('.'), 'Deployment')) {
    const pod = d.spec.template.spec
    const name = d.metadata.name
    t.match(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, `${name}: pod security context`)
    t.equal(String(pod.securityContext.runAsUser), uid.split(':')[0], `${name}: runs as the image's user`)
    t.notOk(pod.hostNetwork || pod.hostPID || pod.hostIPC, `${name}: no host namespaces`)
    for (const c of pod.containers) {
      t.match(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } }, `${name}/${c.name}: container security context`)
      t.notOk(c.securityContext.capabilities.add, `${name}/${c.name}: adds no capability`)
      for (const kind of ['requests', 'limits']) {
        t.ok(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, `${name}/${c.name}: cpu and memory ${kind}`)
      }
      // Every writable path is a volume: nothing else can be written.
      for (const m of c.volumeMounts ?? []) {
        const volume = pod.volumes.find((v: { name: string }) => v.name === m.name)
        t.ok(volume?.emptyDir, `${name}/${c.name}: ${m.mountPath} is an emptyDir`)
        t.ok(volume?.emptyDir?.sizeLimit, `${name}/${c.name}: ${m.mountPath} is bounded`)
      }
    }
  }
})

t.test('the Secret template has what the Deployments read, and its placeholders cannot go live', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async t => {
  const [secret, ...rest] = readManifest('secret.example.yaml')
  t.equal(rest.length, 0)
  const { Secret } = await import('kubernetes-models/v1/Secret')
  t.doesNotThrow(() => new Secret(secret as never).validate())
  const refs = byKind(render('.'), 'Deployment').flatMap(d => d.spec.template.spec.containers.flatMap((c: { env?: Array<{ valueFrom?: { secretKeyRef?: { name: string, key: string } } }> }) =>
    (c.env ?? []).flatMap(e => e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : [])))
  t.same([...new Set(refs.map(r => r.name))], [secret!.metadata.name], 'one Secret, the template\'s')
  t.same([...new Set(refs.map(r => r.key))].sort(), Object.keys(secret!.stringData).sort(), 'exactly the keys the template holds')
  t.ok(byKind(render('.'), 'Deployment').every(d => d.metadata.namespace === secret!.metadata.namespace), 'in the Deployments\' namespace')
  for (const key of ['TOYGRES_API_TOKEN', 'TOYGRES_SECRET_KEY']) {
    t.throws(() => loadConfig({ ...valid, HOST: '0.0.0.0', [key]: secret!.stringData[key] }), new RegExp(`invalid ${key}`), `${key}'s placeholder is refused at boot`)
  }
})

t.test('network policies: the API port is open, workers take no traffic, egress only where the roles go', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async t => {
  const objects = render('.')
  const policies = byKind(objects, 'NetworkPolicy')
  const deployments = byKind(objects, 'Deployment')
  const pods = (p: KubeObject): KubeObject[] => deployments.filter(d => d.metadata.namespace === p.metadata.namespace && matches(p.spec.podSelector.matchLabels, d.spec.template.metadata.labels))
  const deny = policies.find(p => Object.keys(p.spec.podSelector).length === 0)
  t.same(deny?.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, 'everything else is denied, both ways')
  const ports = (rules: Array<{ ports?: Array<{ port: number | string }> }> | undefined): Array<number | string> => (rules ?? []).flatMap(r => (r.ports ?? []).map(p => p.port))
  for (const d of deployments) {
    const mine = policies.filter(p => p !== deny && pods(p).includes(d))
    t.equal(mine.length, 1, `${d.metadata.name}: one policy of its own`)
    const policy = mine[0]!
    t.same(policy.spec.policyTypes, ['Ingress', 'Egress'])
    const egress = ports(policy.spec.egress)
    for (const port of [53, 5432, 443]) t.ok(egress.includes(port), `${d.metadata.name}: egress to ${port}`)
    t.ok(policy.spec.egress.every((r: { ports?: unknown[] }) => (r.ports ?? []).length > 0), `${d.metadata.name}: no egress rule without ports`)
    if (role(d) === 'api') t.same(ports(policy.spec.ingress), ['http'], 'the API port, by name, and nothing else')
    else t.same(policy.spec.ingress ?? [], [], 'nothing reaches a worker')
  }
})

t.test('RBAC: no wildcard, every binding points at a rule set and an identity that exist', { skip: hasKubectl() ? false : 'kubectl is not installed' }, async t => {
  for (const layout of LAYOUTS) {
    const objects = render(layout)
    for (const r of objects.filter(o => o.kind === 'Role' || o.kind === 'ClusterRole')) {
      const wild = r.rules.flatMap((rule: Record<string, string[] | undefined>) => ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']
        .flatMap(field => (rule[field] ?? []).filter(v => v.includes('*')).map(v => `${field}: ${v}`)))
      t.same(wild, [], `${layout}: ${r.kind} ${r.metadata.name} has no wildcard`)
    }
    for (const b of objects.filter(o => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
      const ref = b.roleRef
      const target = objects.find(o => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace))
      t.ok(target, `${layout}: ${b.kind} ${b.metadata.name} → ${ref.kind} ${ref.name} exists`)
      for (const s of b.subjects) {
        t.ok(objects.some(o => o.kind === 'ServiceAccount' && o.metadata.name === s.name && o.metadata.namespace === s.namespace), `${layout}: ${b.metadata.name} binds ServiceAccount ${s.namespace}/${s.name}, which exists`)
      }
    }
  }
})
