// The Kubernetes provisioner: applies the pure manifests through a thin
// client, and waits by watching rather than polling. Every method converges
// when repeated or re-run after a crash half-way.
import { KubeConfig, type V1Pod, type V1Service } from '@kubernetes/client-node'
import type { Logger } from '../../logging.ts'
import { SUPPORTED_POSTGRES_VERSIONS } from '../instance-names.ts'
import { PermanentProvisionerError, type Provisioner } from '../provisioner.ts'
import type {
  ActivityContext, DeletePostgresInput, DeletePostgresOutput, DeploySpec, DeployPostgresOutput,
  GetConnectionStringsInput, GetConnectionStringsOutput, WaitForReadyInput, WaitForReadyOutput
} from '../types.ts'
import { createKubeClient, type Kind } from './client.ts'
import { azureDnsName, clusterStrings, ingressOf, loadBalancerStrings } from './connection-strings.ts'
import { ensureNamespace } from './namespace.ts'
import { buildHeadlessService, buildSecret, buildService, buildStatefulSet } from './manifests.ts'
import { instanceSelector, objectNames } from './names.ts'
import { describePod, podVerdict } from './pod-state.ts'
import { assertValidSpec, type InstanceSpec } from './spec.ts'
import { watchUntil } from './watch-until.ts'


export interface KubernetesProvisionerOptions {
  /** A kubeconfig file; otherwise the standard places (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfigPath?: string | undefined
  /** Repository without tag; the tag is the PostgreSQL major version. Default `postgres`. */
  image?: string | undefined
  storageClass?: string | undefined
  /** For the Azure DNS name; default: the first node's topology.kubernetes.io/region label. */
  region?: string | undefined
  /** Objects logged here never hold the password. */
  logger: Logger
  /** This control plane's id: part of the mark on every object it makes. */
  controlPlaneId: string
}

export function createKubernetesProvisioner (opts: KubernetesProvisionerOptions): Provisioner {
  const kc = new KubeConfig()
  if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath)
  else kc.loadFromDefault()
  const client = createKubeClient(kc)
  const log = opts.logger
  const image = opts.image ?? 'postgres'
  const seconds = (s: number): number => Date.now() + s * 1000

  async function region (): Promise<string> {
    if (opts.region) return opts.region
    const nodes = await client.core.listNode({})
    const found = nodes.items.map(n => n.metadata?.labels?.['topology.kubernetes.io/region']).find(Boolean)
    if (!found) throw new PermanentProvisionerError('a DNS label needs the cluster region: no node has a topology.kubernetes.io/region label; set TOYGRES_K8S_REGION')
    return found
  }

  return {
    kind: 'kubernetes',

    async deployPostgres (input: DeploySpec, { signal }: ActivityContext): Promise<DeployPostgresOutput> {
      const spec: InstanceSpec = { ...input, image, storageClass: opts.storageClass }
      assertValidSpec(spec)
      const ns = input.namespace
      const created: string[] = []
      const existing: string[] = []
      const record = (what: string, result: 'created' | 'existing'): void => { (result === 'created' ? created : existing).push(what) }
      record(`Namespace/${ns}`, await ensureNamespace(client.core, ns))
      // Secret first: the pod reads it at start, so it must exist before the StatefulSet.
      const steps: Array<[Kind, { metadata?: { name?: string } }]> = [
        ['Secret', buildSecret(spec, input.password)],
        ['Service', buildHeadlessService(spec)],
        ['Service', buildService(spec)],
        ['StatefulSet', buildStatefulSet(spec)]
      ]
      for (const [kind, body] of steps) {
        signal.throwIfAborted()
        record(`${kind}/${body.metadata?.name}`, await client.createIfMissing(kind, ns, body))
      }
      log.info({ namespace: ns, instance: input.instance_name, created, existing }, 'kubernetes: deployed postgres')
      return { instance_name: input.instance_name, namespace: ns, created, existing }
    },

    async waitForReady (input: WaitForReadyInput, { signal }: ActivityContext): Promise<WaitForReadyOutput> {
      const started = Date.now()
      const names = objectNames(input.instance_name)
      const target = client.target<V1Pod>('Pod', input.namespace, names.pod)
      await watchUntil(kc, target, pod => {
        const v = podVerdict(pod)
        if (v.state === 'ready') return { done: true }
        if (v.state === 'failed') {
          return { fail: new PermanentProvisionerError(`pod ${input.namespace}/${names.pod} cannot become ready: ${v.reason}: ${v.message}`) }
        }
        return undefined
      }, { deadline: started + input.timeout_seconds * 1000, signal, describe: pod => `pod ${input.namespace}/${names.pod} not Ready after ${input.timeout_seconds} s (${describePod(pod)})` })
      const elapsed = Math.round((Date.now() - started)) / 1000
      log.info({ namespace: input.namespace, instance: input.instance_name, elapsed_seconds: elapsed }, 'kubernetes: pod ready')
      return { ready: true, pod_name: names.pod, elapsed_seconds: elapsed }
    },

    async getConnectionStrings (input: GetConnectionStringsInput, { signal }: ActivityContext): Promise<GetConnectionStringsOutput> {
      const names = objectNames(input.instance_name)
      if (!input.use_load_balancer) return clusterStrings(names.service, input.namespace)
      const missing = new PermanentProvisionerError(`Service ${input.namespace}/${names.service} not found: deploy-postgres first`)
      const ingress = await watchUntil<V1Service, { ip?: string, hostname?: string }>(kc, client.target<V1Service>('Service', input.namespace, names.service), svc => {
        if (!svc) return { fail: missing }
        const found = ingressOf(svc)
        return found ? { done: found } : undefined
      }, {
        deadline: seconds(input.timeout_seconds),
        signal,
        describe: () => `LoadBalancer ${input.namespace}/${names.service} has no ingress IP or hostname yet`
      })
      const dnsName = input.dns_label ? azureDnsName(input.dns_label, await region()) : null
      const out = loadBalancerStrings(ingress, dnsName)
      log.info({ namespace: input.namespace, instance: input.instance_name, ...out }, 'kubernetes: connection strings')
      return out
    },

    async deletePostgres (input: DeletePostgresInput, { signal }: ActivityContext): Promise<DeletePostgresOutput> {
      const ns = input.namespace
      const names = objectNames(input.instance_name)
      // Claims outlive a StatefulSet, so they are found by label, plus the derived name for a claim that lost its labels.
      const claims = new Set([names.pvc, ...await client.listNames('PersistentVolumeClaim', ns, instanceSelector(input.instance_name))])
      const objects: Array<[Kind, string]> = [
        ['Service', names.service], ['Service', names.headlessService], ['StatefulSet', names.statefulSet],
        ...[...claims].map((c): [Kind, string] => ['PersistentVolumeClaim', c]), ['Secret', names.secret]
      ]
      let deleted = false
      for (const [kind, name] of objects) {
        signal.throwIfAborted()
        if (await client.deleteIfPresent(kind, ns, name)) deleted = true
      }
      // The pod goes with its StatefulSet (garbage collection); wait for it too, so its volume is released.
      const deadline = seconds(input.timeout_seconds)
      for (const [kind, name] of [...objects, ['Pod', names.pod] as [Kind, string]]) {
        await watchUntil(kc, client.target(kind, ns, name), o => o ? undefined : { done: true }, {
          deadline, signal, describe: () => `${kind} ${ns}/${name} still exists`
        })
      }
      log.info({ namespace: ns, instance: input.instance_name, deleted }, 'kubernetes: deleted postgres')
      return { deleted }
    },

    async unreachableReason (signal) {
      try {
        await Promise.race([client.core.listNamespace({ limit: 1 }), new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        })])
        return null
      } catch (err) {
        if (signal.aborted) return `the Kubernetes API at ${kc.getCurrentCluster()?.server ?? '(no cluster)'} did not answer in time`
        return `the Kubernetes API at ${kc.getCurrentCluster()?.server ?? '(no cluster)'} is not reachable: ${(err as Error).message}`
      }
    },

    async supportedVersions () { return [...SUPPORTED_POSTGRES_VERSIONS] },

    async serverNames (input) {
      const names = objectNames(input.instance_name)
      const dns = [names.service, `${names.service}.${input.namespace}`, `${names.service}.${input.namespace}.svc`, `${names.service}.${input.namespace}.svc.cluster.local`]
      if (input.dns_label) dns.push(azureDnsName(input.dns_label, await region()))
      return { dns, ip: [] }
    },

    restartPostgres: notYet('restart'),
    stopPostgres: notYet('stop'),
    startPostgres: notYet('start'),
    recoverPostgres: async () => false, // the kubelet restarts containers; the StatefulSet controller recreates pods
    setPassword: notYet('password reset'),
    resizeStorage: notYet('storage resize'),
    applyLabels: notYet('labels'),
    applyNetwork: notYet('allowed_cidrs changes'),
    readLogs: notYet('logs'),

    async close () {}
  }
}

function notYet (what: string): () => never {
  return () => { throw new PermanentProvisionerError(`${what} is not available on the Kubernetes provisioner yet`) }
}
