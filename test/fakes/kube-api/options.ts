// Every knob of the fake, its default (today's kind fake) and the
// `profile: 'realistic'` preset, which turns on a real cluster's transient
// states with short, test-friendly timings.

export interface PullFailure {
  /** How many pulls fail before one succeeds. */
  count: number
  /** The container runtime's error; default: Docker Hub's 429 rate limit. */
  message?: string
}

export interface StorageClassOption {
  name: string
  provisioner?: string
  allowVolumeExpansion?: boolean
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer'
  isDefault?: boolean
}

export interface ClusterOptions {
  /** What a LoadBalancer Service reports as ingress; 'none' never gets one. */
  loadBalancer: 'ip' | 'hostname' | 'none'
  /** Back each running pod with a real PostgreSQL on its pod IP; LoadBalancer IPs proxy to it. */
  realPostgres: boolean
  /** The "short async tick" each controller step waits, like a real reconcile. */
  tickMs: number
  /** 'manual': pods stay Pending until the test calls startPod(), to act at a chosen moment. */
  kubelet: 'auto' | 'manual'

  /** Images (with or without tag) that the registry never has: ErrImagePull, then ImagePullBackOff, for ever. */
  neverPulls: string[]
  /** Images whose container exits with code 1 on every start: CrashLoopBackOff. */
  crashes: string[]
  /** Images whose container exits on its first start only (the kubelet restarts it at once). */
  crashOnce: string[]
  /** Images whose container exits on its first n starts: CrashLoopBackOff from the second exit. */
  crashTimes: Record<string, number>
  /** Every pod stays Pending: PodScheduled=False, Unschedulable, Insufficient cpu. */
  unschedulable: boolean
  /** Insufficient cpu until the cluster autoscaler has added a node, this long after the first attempt. 0: off. */
  scaleUpAfterMs: number

  /** How long a claim stays Pending before its volume is provisioned and bound. */
  volumeBindingDelayMs: number
  /** How long ContainerCreating lasts after the volumes are mounted. 0: the pod is never shown ContainerCreating unless it waits for a volume. */
  containerCreatingMs: number
  /** How long an image pull takes. */
  pullMs: number
  /** The first `count` pulls fail (all images), or per image (reference as written in the pod spec, or its repository). */
  pullFailures: PullFailure | Record<string, PullFailure> | undefined
  /** Base of the kubelet's back-offs (image pulls and crash restarts): 10 s doubling, capped (pkg/kubelet/kubelet.go). */
  backoffBaseMs: number
  backoffMaxMs: number
  /** The kubelet's resync of mounted Secrets/ConfigMaps and retry of failed mounts/config (syncFrequency, 1 m in real life). */
  kubeletSyncMs: number

  /** Delay before a LoadBalancer Service gets its ingress. */
  loadBalancerDelayMs: number
  /** 'enforce': the LoadBalancer only lets a client in whose address is inside spec.loadBalancerSourceRanges. */
  loadBalancerSourceRanges: 'ignore' | 'enforce'

  /** Add kubernetes.io/pvc-protection to every claim; removed when no pod uses it. */
  pvcProtection: boolean
  /** Namespace DELETE goes through Terminating (content removed first) instead of vanishing at once. */
  namespaceTermination: boolean
  /** Volume expansion: controller step and node step each take this long. */
  volumeExpansionMs: number

  /** The default StorageClass (always present, `standard` unless renamed). */
  defaultStorageClass: StorageClassOption
  /** More StorageClasses. */
  storageClasses: StorageClassOption[]
}

export type Profile = 'default' | 'realistic'

export const DEFAULTS: ClusterOptions = {
  loadBalancer: 'ip',
  realPostgres: false,
  tickMs: 5,
  kubelet: 'auto',
  neverPulls: [],
  crashes: [],
  crashOnce: [],
  crashTimes: {},
  unschedulable: false,
  scaleUpAfterMs: 0,
  volumeBindingDelayMs: 0,
  containerCreatingMs: 0,
  pullMs: 0,
  pullFailures: undefined,
  backoffBaseMs: 10_000,
  backoffMaxMs: 300_000,
  kubeletSyncMs: 1_000,
  loadBalancerDelayMs: 0,
  loadBalancerSourceRanges: 'ignore',
  pvcProtection: false,
  namespaceTermination: false,
  volumeExpansionMs: 50,
  defaultStorageClass: { name: 'standard', provisioner: 'disk.csi.fake.invalid', allowVolumeExpansion: true, volumeBindingMode: 'Immediate' },
  storageClasses: []
}

/** Real-cluster transients, scaled down: every default-path test passes through them. */
export const REALISTIC: Partial<ClusterOptions> = {
  volumeBindingDelayMs: 300,
  containerCreatingMs: 150,
  pullMs: 50,
  pullFailures: { count: 1 },
  backoffBaseMs: 100,
  backoffMaxMs: 3_000,
  kubeletSyncMs: 100,
  loadBalancerDelayMs: 200,
  loadBalancerSourceRanges: 'enforce',
  pvcProtection: true,
  namespaceTermination: true,
  volumeExpansionMs: 100
}

export function resolveOptions (profile: Profile | undefined, given: Partial<ClusterOptions>): ClusterOptions {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<ClusterOptions>
  return { ...DEFAULTS, ...(profile === 'realistic' ? REALISTIC : {}), ...defined }
}

export const DOCKER_HUB_429 = (ref: string): string =>
  `rpc error: code = Unknown desc = failed to pull and unpack image "${ref}": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/${ref.replace(/^docker\.io\//, '').replace(/:[^:/]+$/, '')}/manifests/sha256:4f5fbc7a0c5e1a3f1c5b8e1a2d9c0b7e6f5a4d3c2b1a09f8e7d6c5b4a3928170: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`

export const NOT_FOUND = (ref: string): string =>
  `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`
