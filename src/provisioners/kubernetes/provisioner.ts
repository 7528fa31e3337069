// The Kubernetes provisioner: pure manifests applied through a thin client,
// waits that watch rather than poll and say why they wait, and one rule for
// every object: it is ours only with this instance's mark. Each method lives
// in its own file; this one wires them.
import type { V1Node } from '@kubernetes/client-node'
import type { Logger } from '../../logging.ts'
import { SUPPORTED_POSTGRES_VERSIONS } from '../instance-names.ts'
import { PermanentProvisionerError, type Provisioner } from '../provisioner.ts'
import { createKubeClient } from './client.ts'
import { connectionStrings } from './connection.ts'
import { azureDnsName, serviceDnsNames } from './connection-strings.ts'
import type { Kube } from './context.ts'
import { removeInstance } from './delete.ts'
import { deploy } from './deploy.ts'
import { statusOf } from './errors.ts'
import { describeCluster, loadKubeConfig } from './kubeconfig.ts'
import { applyLabels } from './labels.ts'
import { restart, start, stop } from './lifecycle.ts'
import { readLogs } from './logs.ts'
import { objectNames } from './names.ts'
import { applyNetwork } from './network.ts'
import { setPassword } from './password.ts'
import { loadBalancerPending, waitUntilReady } from './ready.ts'
import { resize } from './storage.ts'

export interface KubernetesProvisionerOptions {
  /** $KUBECONFIG (one file, or several joined by ':'); otherwise ~/.kube/config, then the in-cluster service account. */
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
  /** Restarts tolerated in CrashLoopBackOff before wait-for-ready fails (a fresh volume's first start may crash once). Default 3. */
  crashRestarts?: number | undefined
  /** Pulls the registry must answer "not found" before wait-for-ready fails. Default 3. */
  notFoundPulls?: number | undefined
  /**
   * Networks the control plane connects to instances from (its pods'
   * network): always allowed by pg_hba.conf, so allowed_cidrs never locks
   * out health checks. Default: the private ranges (RFC 1918, RFC 6598, RFC 4193).
   */
  controlPlaneCidrs?: string[] | undefined
  /** The cluster's DNS domain (the kubelet's --cluster-domain), in Service names and certificates. Default `cluster.local`. */
  clusterDomain?: string | undefined
}

/** Where a cluster's pod network lives unless told otherwise. */
export const PRIVATE_NETWORKS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7']

/**
 * The Kubernetes provisioner (see the header; Provisioner gives each method's
 * contract). Loads the kubeconfig once. Without a usable one it is still made:
 * unreachableReason says why, and every call that needs the cluster throws
 * PermanentProvisionerError saying the same.
 */
export function createKubernetesProvisioner (opts: KubernetesProvisionerOptions): Provisioner {
  const log = opts.logger
  const clusterDomain = opts.clusterDomain ?? 'cluster.local'
  const loaded = loadKubeConfig(opts.kubeconfigPath)
  // Said once at boot, plainly; /readyz and every call say it again.
  if (loaded.problem) log.error(`kubernetes provisioner: ${loaded.problem}`)
  else log.info(`kubernetes provisioner: ${describeCluster(loaded.kc!, loaded.source!)}`)
  const k: Kube | null = loaded.kc
    ? {
        kc: loaded.kc,
        client: createKubeClient(loaded.kc),
        log,
        controlPlaneId: opts.controlPlaneId,
        limits: { crashRestarts: opts.crashRestarts ?? 3, notFoundPulls: opts.notFoundPulls ?? 3 },
        controlPlaneCidrs: opts.controlPlaneCidrs ?? PRIVATE_NETWORKS,
        clusterDomain
      }
    : null
  const image = opts.image ?? 'postgres'

  /** The cluster, or the reason there is none: every method starts here. */
  function kube (): Kube {
    if (!k) throw new PermanentProvisionerError(loaded.problem!)
    return k
  }

  async function dnsName (label: string): Promise<string> {
    if (opts.region) return azureDnsName(label, opts.region)
    const nodes = await kube().client.list<V1Node>('Node', '', {}, AbortSignal.timeout(30_000))
    const found = nodes.map(n => n.metadata?.labels?.['topology.kubernetes.io/region']).find(Boolean)
    if (!found) throw new PermanentProvisionerError('a DNS label needs the cluster region: no node has a topology.kubernetes.io/region label; set TOYGRES_K8S_REGION')
    return azureDnsName(label, found)
  }

  return {
    kind: 'kubernetes',

    async unreachableReason (signal) {
      if (!k) return loaded.problem
      const where = describeCluster(k.kc, loaded.source!)
      try {
        await k.client.version(signal)
        return null
      } catch (err) {
        const status = statusOf(err)
        if (status?.code === 401) return `${where} refused our credentials (401 Unauthorized)`
        // Any other answer means it is there; what we may do is each call's business.
        if (status) return null
        if (signal.aborted) return `${where} did not answer in time`
        return `${where} is not reachable: ${(err as Error).message}`
      }
    },

    async supportedVersions () { return [...SUPPORTED_POSTGRES_VERSIONS] },

    async serverNames (input) {
      const names = objectNames(input.instance_name)
      const dns = [
        ...serviceDnsNames(names.service, input.namespace, clusterDomain),
        // The pod's own name through the headless Service, for clients in the cluster that address it directly.
        `${names.pod}.${names.headlessService}.${input.namespace}.svc.${clusterDomain}`
      ]
      if (input.dns_label) dns.push(await dnsName(input.dns_label))
      return { dns, ip: [] }
    },

    deployPostgres: async (input, ctx) => deploy(kube(), input, ctx, { image, storageClass: opts.storageClass }),

    async waitForReady (input, ctx) {
      const started = Date.now()
      const pod = await waitUntilReady(kube(), input, {
        timeoutSeconds: input.timeout_seconds,
        ctx,
        alongside: loadBalancerPending(kube(), input.namespace, input.instance_name, ctx.signal)
      })
      const elapsed = Math.round(Date.now() - started) / 1000
      log.info({ namespace: input.namespace, instance: input.instance_name, elapsed_seconds: elapsed }, 'kubernetes: pod ready')
      return { ready: true, pod_name: pod.name, elapsed_seconds: elapsed }
    },

    getConnectionStrings: async (input, ctx) => connectionStrings(kube(), input, ctx, dnsName),
    deletePostgres: async (input, ctx) => removeInstance(kube(), input, ctx),

    restartPostgres: async (input, ctx) => restart(kube(), input, ctx),
    stopPostgres: async (input, ctx) => stop(kube(), input, ctx),
    startPostgres: async (input, ctx) => start(kube(), input, ctx),
    // The kubelet restarts a container that exits, the StatefulSet controller a pod that goes: nothing for us to do.
    recoverPostgres: async () => false,
    setPassword: async (input, ctx) => setPassword(kube(), input, ctx),
    resizeStorage: async (input, ctx) => resize(kube(), input, ctx),
    applyLabels: async (input, ctx) => applyLabels(kube(), input, ctx),
    applyNetwork: async (input, ctx) => applyNetwork(kube(), input, ctx),
    readLogs: async function * (input, signal) { yield * readLogs(kube(), input, signal) },

    async close () {}
  }
}
