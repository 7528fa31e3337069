// The scheduler and the kubelet, per pod, as one async worker:
//
//   schedule   VolumeBinding PreFilter (claims missing/unbound), node
//              cordons, Insufficient cpu (permanent, or until the cluster
//              autoscaler adds a node); FailedScheduling / Scheduled events
//              (pkg/scheduler/framework/plugins/volumebinding, noderesources,
//              nodeunschedulable; pkg/scheduler/schedule_one.go)
//   mount      secret/configMap volumes: FailedMount until the object exists
//              (pkg/kubelet/volumemanager), then ContainerCreating
//   pull       Pulling/Pulled, ErrImagePull then ImagePullBackOff with the
//              kubelet's back-off (pkg/kubelet/images/image_manager.go)
//   config     env from Secrets/ConfigMaps: CreateContainerConfigError until
//              they exist (pkg/kubelet/kuberuntime/kuberuntime_container.go)
//   run        Created/Started, Ready once the server accepts connections;
//              an exit restarts at once the first time, then CrashLoopBackOff
//              with back-off 10s doubling to 5m (doBackOff in
//              kuberuntime_manager.go; docs: "How Pods handle problems with
//              containers": "Initial crash: Kubernetes attempts an immediate
//              restart")
//   terminate  Killing "Stopping container", STOPSIGNAL, then the pod object
//              goes (grace-0 delete; finalizers still hold it)
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { RunAs } from '../../../src/postgres/binaries.ts'
import { serverArgs, startPostgresContainer, toContainer, type BackingPostgres, type ContainerExit, type RunningContainer } from './backing-postgres.ts'
import { LogWriter } from './container-log.ts'
import { refTo, type Recorder } from './events.ts'
import type { IpPool } from './ip-pool.ts'
import { DOCKER_HUB_429, NOT_FOUND, type ClusterOptions, type PullFailure } from './options.ts'
import type { KubeObject } from './resources.ts'
import type { Store, WatchEvent } from './store.ts'
import type { Tasks } from './tasks.ts'
import { defaultPullPolicy, goDuration, normalizeImage, timestamp } from './util.ts'
import type { Volumes } from './volumes.ts'

// Lowercase repository path, optional tag or digest: anything else cannot be pulled at all.
const IMAGE_REF = /^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+\/[a-z0-9]+([._/-][a-z0-9]+)*)?(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/

export function repository (image: string): string {
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  return colon > slash ? image.slice(0, colon) : image
}

const key = (ns: string | undefined, name: string): string => `${ns}/${name}`
const IMAGE_SIZE = 158_765_432

/** The registry the node pulls from: images that do not exist, and rate limits that pass. */
export class Registry {
  readonly #opts: ClusterOptions
  #failedAll = 0
  readonly #failedBy = new Map<string, number>()
  constructor (opts: ClusterOptions) { this.#opts = opts }

  #listed (list: string[], image: string): boolean { return list.includes(image) || list.includes(repository(image)) }

  /** undefined on success, else the runtime's error text. */
  pull (image: string): string | undefined {
    const ref = normalizeImage(image)
    if (this.#listed(this.#opts.neverPulls, image)) return NOT_FOUND(ref)
    const f = this.#opts.pullFailures
    if (!f) return undefined
    if (typeof (f as PullFailure).count === 'number') {
      const pf = f as PullFailure
      if (this.#failedAll >= pf.count) return undefined
      this.#failedAll++
      return pf.message ?? DOCKER_HUB_429(ref)
    }
    const byImage = f as Record<string, PullFailure>
    const k = byImage[image] ? image : byImage[repository(image)] ? repository(image) : undefined
    if (!k) return undefined
    const n = this.#failedBy.get(k) ?? 0
    if (n >= byImage[k]!.count) return undefined
    this.#failedBy.set(k, n + 1)
    return byImage[k]!.message ?? DOCKER_HUB_429(ref)
  }
}

interface Instance { id: string, log: LogWriter, finished: boolean, done: Promise<void> }

/** What the log endpoint and killContainer need of a pod on this node. */
export interface PodRuntime {
  uid: string
  containerName: string
  instances: Map<string, Instance>
  current: RunningContainer | undefined
}

interface Backoff { backoffMs: number, lastUpdate: number, lastError?: string }

interface ContainerModel {
  state: Record<string, unknown>
  lastState: Record<string, unknown>
  ready: boolean
  started: boolean
  restartCount: number
  containerID?: string
  imageID: string
  podIP?: string
}

export interface KubeletDeps {
  store: Store
  tasks: Tasks
  opts: ClusterOptions
  recorder: Recorder
  volumes: Volumes
  registry: Registry
  pool: IpPool
  runAs: RunAs | undefined
  backing: Map<string, BackingPostgres>
  /** The cluster autoscaler's node, added when a scale-up was triggered. */
  addNode: () => string
}

export class Kubelet {
  readonly pods = new Map<string, PodRuntime>() // by pod uid
  readonly #d: KubeletDeps
  readonly #workers = new Set<string>()
  readonly #nodeImages = new Map<string, Set<string>>()
  readonly #pullBackoff = new Map<string, Backoff>()
  readonly #crashBackoff = new Map<string, Backoff>()
  readonly #starts = new Map<string, number>() // image → container starts (crash options)
  #scaleUp: { at: number, node?: string } | undefined
  #syntheticIps = 0

  constructor (deps: KubeletDeps) { this.#d = deps }

  running (uid: string): boolean { return this.#workers.has(uid) }

  /** Starts the pod's worker (once); resolves when it is running (or stopped trying). */
  start (pod: KubeObject): Promise<void> {
    const uid = pod.metadata.uid!
    if (this.#workers.has(uid) || this.#d.tasks.closed) return Promise.resolve()
    this.#workers.add(uid)
    return new Promise(resolve => {
      this.#d.tasks.run(`pod ${key(pod.metadata.namespace, pod.metadata.name)}`, async () => {
        try { await this.#worker(pod.metadata.namespace!, pod.metadata.name, uid, resolve) } finally { this.#workers.delete(uid); resolve() }
      })
    })
  }

  /** Kills the running container (SIGKILL), as an OOM kill or a runtime restart would. */
  killContainer (ns: string, name: string): boolean {
    const pod = this.#d.store.get('pods', ns, name)
    const rt = pod && this.pods.get(pod.metadata.uid!)
    if (!rt?.current) return false
    rt.current.kill('SIGKILL')
    return true
  }

  // ---- scheduler -------------------------------------------------------

  #preemption (n: number, helpful: boolean): string {
    return helpful ? `preemption: 0/${n} nodes are available: ${n} No preemption victims found for incoming pod.` : `preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`
  }

  /** A node for the pod, or why none fits, as the scheduler's FitError says it. */
  #fit (pod: KubeObject): { node: string } | { wait: true } | { message: string, scaleUp?: boolean } {
    const { store, opts } = this.#d
    const nodes = store.list('nodes')
    const n = nodes.length
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue
      const claimName = v.persistentVolumeClaim.claimName
      const claim = store.get('persistentvolumeclaims', pod.metadata.namespace, claimName)
      if (!claim) return { message: `0/${n} nodes are available: persistentvolumeclaim "${claimName}" not found. ${this.#preemption(n, false)}` }
      if (claim.metadata.deletionTimestamp) return { message: `0/${n} nodes are available: persistentvolumeclaim "${claimName}" is being deleted. ${this.#preemption(n, false)}` }
      if (claim.status?.phase === 'Bound') continue
      const sc = store.get('storageclasses', undefined, claim.spec?.storageClassName ?? '')
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer') {
        if (!claim.metadata.annotations?.['volume.kubernetes.io/selected-node']) {
          store.update('persistentvolumeclaims', claim.metadata.namespace, claimName, c => { (c.metadata.annotations ??= {})['volume.kubernetes.io/selected-node'] = nodes[0]?.metadata.name ?? '' })
        }
        return { wait: true }
      }
      return { message: `0/${n} nodes are available: pod has unbound immediate PersistentVolumeClaims. ${this.#preemption(n, false)}` }
    }
    const cpu = `0/${n} nodes are available: ${n} Insufficient cpu. ${this.#preemption(n, true)}`
    if (opts.unschedulable) return { message: cpu }
    if (opts.scaleUpAfterMs > 0 && !this.#scaleUp?.node) return { message: cpu, scaleUp: true }
    const usable = nodes.filter(node => !node.spec?.unschedulable)
    const target = this.#scaleUp?.node && usable.some(x => x.metadata.name === this.#scaleUp!.node) ? this.#scaleUp.node : usable[0]?.metadata.name
    if (!target) return { message: `0/${n} nodes are available: ${n} node(s) were unschedulable. ${this.#preemption(n, false)}` }
    return { node: target }
  }

  async #schedule (ns: string, name: string, uid: string, signal: AbortSignal): Promise<boolean> {
    const { store, recorder, tasks, opts } = this.#d
    let lastMessage = ''
    while (!signal.aborted) {
      const pod = store.get('pods', ns, name)
      if (!pod || pod.metadata.uid !== uid) return false
      if (pod.spec?.nodeName) return true
      const fit = this.#fit(pod)
      if ('node' in fit) {
        store.update('pods', ns, name, p => {
          p.spec.nodeName = fit.node
          p.status = { phase: 'Pending', conditions: [condition('PodScheduled', 'True', p.status?.conditions)] }
        })
        recorder.record(refTo(pod), 'Normal', 'Scheduled', `Successfully assigned ${ns}/${name} to ${fit.node}`, { component: 'default-scheduler' })
        return true
      }
      if ('message' in fit) {
        if (fit.message !== lastMessage) {
          store.update('pods', ns, name, p => { p.status = { phase: 'Pending', conditions: [condition('PodScheduled', 'False', p.status?.conditions, { reason: 'Unschedulable', message: fit.message })] } })
          lastMessage = fit.message
        }
        recorder.record(refTo(pod), 'Warning', 'FailedScheduling', fit.message, { component: 'default-scheduler' })
        if (fit.scaleUp) this.#triggerScaleUp(pod)
      }
      // The scheduler retries on cluster events (claims, nodes), and with its own back-off.
      await tasks.change(opts.kubeletSyncMs * 10, e => e.resource === 'persistentvolumeclaims' || e.resource === 'nodes', signal)
    }
    return false
  }

  /** cluster-autoscaler: TriggeredScaleUp, then a node joins after scaleUpAfterMs (cluster-autoscaler/core/scaleup). */
  #triggerScaleUp (pod: KubeObject): void {
    const { recorder, tasks, opts, store } = this.#d
    if (this.#scaleUp) return
    this.#scaleUp = { at: Date.now() }
    const n = store.list('nodes').length
    recorder.record(refTo(pod), 'Normal', 'TriggeredScaleUp', `pod triggered scale-up: [{fake-node-pool ${n}->${n + 1} (max: ${n + 2})}]`, { component: 'cluster-autoscaler' })
    tasks.run('cluster-autoscaler', async () => {
      await tasks.sleep(opts.scaleUpAfterMs)
      this.#scaleUp!.node = this.#d.addNode()
    })
  }

  // ---- kubelet ---------------------------------------------------------

  async #worker (ns: string, name: string, uid: string, started: () => void): Promise<void> {
    const { store } = this.#d
    const ac = new AbortController()
    const watching = (e: WatchEvent): void => {
      if (e.resource === 'pods' && e.object.metadata.uid === uid && (e.type === 'DELETED' || e.object.metadata.deletionTimestamp)) ac.abort()
    }
    const stop = store.subscribe(store.resourceVersion, watching)
    const closing = this.#d.tasks.closing.signal
    if (closing.aborted) ac.abort()
    closing.addEventListener('abort', () => ac.abort(), { once: true })
    const pod = store.get('pods', ns, name)
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) ac.abort()
    let rt: PodRuntime | undefined
    let podIP: string | undefined
    let mountedClaims: string[] = []
    try {
      if (!(await this.#schedule(ns, name, uid, ac.signal))) return
      rt = { uid, containerName: pod!.spec?.containers?.[0]?.name ?? 'container', instances: new Map(), current: undefined }
      this.pods.set(uid, rt)
      const r = await this.#run(ns, name, uid, rt, ac.signal, started, ip => { podIP = ip }, claims => { mountedClaims = claims })
      void r
    } finally {
      stop()
      await this.#terminate(ns, name, uid, rt, podIP, mountedClaims)
    }
  }

  #model (c: any): ContainerModel {
    return { state: { waiting: { reason: 'ContainerCreating' } }, lastState: {}, ready: false, started: false, restartCount: 0, imageID: '' }
  }

  #write (ns: string, name: string, uid: string, c: any, m: ContainerModel, extra: { podIP?: string | undefined, phase?: string }): void {
    this.#d.store.update('pods', ns, name, p => {
      if (p.metadata.uid !== uid) return
      const prev = p.status?.conditions
      const ready = m.ready ? 'True' : 'False'
      const notReady: Record<string, string> = m.ready ? {} : { reason: 'ContainersNotReady', message: `containers with unready status: [${c.name}]` }
      const now = timestamp()
      p.status = {
        phase: extra.phase ?? (m.state.running || m.restartCount > 0 || m.lastState.terminated ? 'Running' : 'Pending'),
        conditions: [
          condition('PodScheduled', 'True', prev),
          condition('Initialized', 'True', prev),
          condition('ContainersReady', ready, prev, notReady),
          condition('Ready', ready, prev, notReady)
        ],
        hostIP: '127.0.0.1',
        hostIPs: [{ ip: '127.0.0.1' }],
        ...((extra.podIP ?? m.podIP) ? { podIP: extra.podIP ?? m.podIP, podIPs: [{ ip: extra.podIP ?? m.podIP }] } : {}),
        startTime: p.status?.startTime ?? now,
        qosClass: 'Burstable',
        containerStatuses: [{
          name: c.name,
          image: c.image,
          imageID: m.imageID,
          ...(m.containerID ? { containerID: m.containerID } : {}),
          ready: m.ready,
          started: m.started,
          restartCount: m.restartCount,
          state: m.state,
          lastState: m.lastState
        }]
      }
    })
  }

  async #run (ns: string, name: string, uid: string, rt: PodRuntime, signal: AbortSignal, started: () => void, setIp: (ip: string) => void, setClaims: (c: string[]) => void): Promise<void> {
    const { store, recorder, tasks, opts, volumes } = this.#d
    let pod = store.get('pods', ns, name)!
    const c = pod.spec.containers[0]
    const cref = refTo(pod, `spec.containers{${c.name}}`)
    const source = { component: 'kubelet', host: pod.spec.nodeName }
    const m = this.#model(c)
    const secretsChanged = (e: WatchEvent): boolean => (e.resource === 'secrets' || e.resource === 'configmaps') && e.object.metadata.namespace === ns
    let shownCreating = false
    const showCreating = (): void => {
      if (shownCreating) return
      shownCreating = true
      this.#write(ns, name, uid, c, m, {})
    }
    if (opts.containerCreatingMs > 0) showCreating()

    // Volumes: FailedMount until every Secret/ConfigMap a volume needs exists.
    for (;;) {
      if (signal.aborted) return
      pod = store.get('pods', ns, name) ?? pod
      const err = volumes.check(pod)
      if (!err) break
      showCreating()
      recorder.record(refTo(pod), 'Warning', 'FailedMount', err, source)
      await tasks.change(opts.kubeletSyncMs, secretsChanged, signal)
    }
    const mounts = opts.realPostgres ? await volumes.mount(pod) : []
    const claims: string[] = []
    for (const v of pod.spec?.volumes ?? []) {
      if (!v.persistentVolumeClaim) continue
      const claim = store.get('persistentvolumeclaims', ns, v.persistentVolumeClaim.claimName)
      if (claim) { claims.push(claim.metadata.uid!); volumes.use(claim.metadata.uid!) }
    }
    setClaims(claims)
    const port = postgresPort(c)
    const podIP = opts.realPostgres ? await this.#d.pool.allocate(port) : syntheticIp(this.#syntheticIps++)
    setIp(podIP)
    m.podIP = podIP
    if (opts.containerCreatingMs > 0) await tasks.sleep(opts.containerCreatingMs, signal)

    // Mounted Secrets/ConfigMaps follow their source, after the kubelet's sync period.
    if (opts.realPostgres) {
      tasks.run(`volume sync ${ns}/${name}`, async () => {
        while (!signal.aborted) {
          await tasks.change(opts.kubeletSyncMs, secretsChanged, signal)
          if (signal.aborted) return
          await tasks.sleep(opts.kubeletSyncMs, signal)
          const now = store.get('pods', ns, name)
          if (now && now.metadata.uid === uid && !signal.aborted) await volumes.resync(now)
        }
      })
    }

    for (;;) {
      if (signal.aborted) return
      pod = store.get('pods', ns, name) ?? pod
      const image = pod.spec.containers[0].image
      const pulled = await this.#ensureImage(ns, name, uid, pod, c, m, image, source, cref, signal, showCreating)
      if (signal.aborted) return
      if (!pulled) continue
      const env = this.#env(pod, c, podIP)
      if ('error' in env) {
        m.state = { waiting: { reason: 'CreateContainerConfigError', message: env.error } }
        this.#write(ns, name, uid, c, m, { podIP })
        recorder.record(cref, 'Warning', 'Failed', `Error: ${env.error}`, source)
        await tasks.change(opts.kubeletSyncMs, secretsChanged, signal)
        continue
      }
      const id = `containerd://${randomBytes(32).toString('hex')}`
      const log = new LogWriter(join(volumes.podDir(uid), 'logs', c.name, `${m.restartCount}.log`), line => toContainer(line, mounts))
      recorder.record(cref, 'Normal', 'Created', `Created container: ${c.name}`, source)
      let container: RunningContainer
      const starts = (this.#starts.get(image) ?? 0) + 1
      this.#starts.set(image, starts)
      if (opts.realPostgres) {
        container = await startPostgresContainer({ podIP, command: c.command, args: c.args, env: env.env, mounts, scratchDir: join(volumes.podDir(uid), 'rootfs', String(m.restartCount)), log, runAs: this.#d.runAs })
      } else {
        container = synthetic(log, this.#crashes(image, starts))
      }
      let resolveDone!: () => void
      const instance: Instance = { id, log, finished: false, done: new Promise(resolve => { resolveDone = resolve }) }
      rt.instances.set(id, instance)
      rt.current = container
      recorder.record(cref, 'Normal', 'Started', `Started container ${c.name}`, source)
      const startedAt = timestamp()
      m.containerID = id
      m.imageID = `${normalizeImage(image).replace(/:[^:/@]+$/, '')}@sha256:${'0'.repeat(60)}f00d`
      m.state = { running: { startedAt } }
      m.ready = false
      m.started = false
      this.#write(ns, name, uid, c, m, { podIP })
      if (opts.realPostgres) this.#d.backing.set(key(ns, name), backingOf(container, podIP, volumes.podDir(uid)))
      const aborted = new Promise<'aborted'>(resolve => {
        if (signal.aborted) resolve('aborted')
        signal.addEventListener('abort', () => resolve('aborted'), { once: true })
      })
      const readyOrNot = await Promise.race([container.ready, aborted])
      if (readyOrNot === true) {
        m.ready = true
        m.started = true
        this.#write(ns, name, uid, c, m, { podIP })
        started()
      }
      const exit = await Promise.race([container.exited, aborted])
      if (exit === 'aborted') {
        // Termination: the worker's finally stops it.
        return
      }
      instance.finished = true
      resolveDone()
      rt.current = undefined
      this.#d.backing.delete(key(ns, name))
      const finishedAt = timestamp()
      const terminated = { exitCode: exit.exitCode, reason: exit.exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt, containerID: id }
      m.state = { terminated }
      m.ready = false
      m.started = false
      this.#write(ns, name, uid, c, m, { podIP })
      m.lastState = { terminated }
      started()
      // doBackOff: no entry (or an expired one) → restart now; else wait out the back-off.
      const bkey = `${uid}_${c.name}`
      const entry = this.#crashBackoff.get(bkey)
      const now = Date.now()
      if (!entry || now - entry.lastUpdate > 2 * opts.backoffMaxMs) {
        this.#crashBackoff.set(bkey, { backoffMs: opts.backoffBaseMs, lastUpdate: now })
      } else {
        m.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${goDuration(entry.backoffMs)} restarting failed container=${c.name} pod=${name}_${ns}(${uid})` } }
        this.#write(ns, name, uid, c, m, { podIP })
        recorder.record(cref, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${name}_${ns}(${uid})`, source)
        await tasks.sleep(entry.backoffMs, signal)
        entry.backoffMs = Math.min(entry.backoffMs * 2, opts.backoffMaxMs)
        entry.lastUpdate = Date.now()
      }
      m.restartCount++
    }
  }

  #crashes (image: string, starts: number): boolean {
    const { opts } = this.#d
    const listed = (list: string[]): boolean => list.includes(image) || list.includes(repository(image))
    if (listed(opts.crashes)) return true
    const times = opts.crashTimes[image] ?? opts.crashTimes[repository(image)] ?? (listed(opts.crashOnce) ? 1 : 0)
    return starts <= times
  }

  /** EnsureImageExists: true when the image is on the node; false after a failure (status and events written, back-off waited). */
  async #ensureImage (ns: string, name: string, uid: string, pod: KubeObject, c: any, m: ContainerModel, image: string, source: { component: string, host: string }, cref: ReturnType<typeof refTo>, signal: AbortSignal, showCreating: () => void): Promise<boolean> {
    const { recorder, tasks, opts, registry } = this.#d
    const fail = async (reason: string, message: string): Promise<void> => {
      m.state = { waiting: { reason, message } }
      this.#write(ns, name, uid, c, m, {})
      recorder.record(cref, 'Warning', 'Failed', `Error: ${reason}`, source)
    }
    if (!IMAGE_REF.test(image)) {
      const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": invalid reference format`
      recorder.record(cref, 'Warning', 'InspectFailed', message, source)
      await fail('InvalidImageName', message)
      await tasks.change(opts.kubeletSyncMs * 10, e => e.resource === 'pods' && e.object.metadata.uid === uid, signal)
      return false
    }
    const ref = normalizeImage(image)
    const node = pod.spec.nodeName as string
    const images = this.#nodeImages.get(node) ?? new Set<string>()
    this.#nodeImages.set(node, images)
    const policy = c.imagePullPolicy ?? defaultPullPolicy(image)
    if (images.has(ref) && policy !== 'Always') {
      recorder.record(cref, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, source)
      return true
    }
    const bkey = `${uid}_${image}`
    const b = this.#pullBackoff.get(bkey)
    if (b && Date.now() - b.lastUpdate < b.backoffMs) {
      recorder.record(cref, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, source)
      m.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ${b.lastError}` } }
      this.#write(ns, name, uid, c, m, {})
      recorder.record(cref, 'Warning', 'Failed', 'Error: ImagePullBackOff', source)
      await tasks.sleep(b.lastUpdate + b.backoffMs - Date.now(), signal)
      return false
    }
    // A pull that takes time is seen as ContainerCreating (the sandbox exists, the container does not).
    if (opts.pullMs > 0) showCreating()
    recorder.record(cref, 'Normal', 'Pulling', `Pulling image "${image}"`, source)
    if (opts.pullMs > 0) await tasks.sleep(opts.pullMs, signal)
    if (signal.aborted) return false
    const error = registry.pull(image)
    if (error !== undefined) {
      recorder.record(cref, 'Warning', 'Failed', `Failed to pull image "${image}": ${error}`, source)
      const next: Backoff = !b || Date.now() - b.lastUpdate > 2 * opts.backoffMaxMs
        ? { backoffMs: opts.backoffBaseMs, lastUpdate: Date.now() }
        : { backoffMs: Math.min(b.backoffMs * 2, opts.backoffMaxMs), lastUpdate: Date.now() }
      next.lastError = `ErrImagePull: ${error}`
      this.#pullBackoff.set(bkey, next)
      await fail('ErrImagePull', error)
      // The pod worker's next sync finds the back-off.
      await tasks.sleep(opts.tickMs, signal)
      return false
    }
    this.#pullBackoff.delete(bkey)
    images.add(ref)
    const took = goDuration(opts.pullMs)
    recorder.record(cref, 'Normal', 'Pulled', `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${IMAGE_SIZE} bytes.`, source)
    return true
  }

  /** makeEnvironmentVariables: the first missing Secret/ConfigMap (or key) is the CreateContainerConfigError. */
  #env (pod: KubeObject, c: any, podIP: string): { env: Record<string, string> } | { error: string } {
    const { store } = this.#d
    const ns = pod.metadata.namespace
    const env: Record<string, string> = {}
    const source = (kind: 'Secret' | 'ConfigMap', name: string): KubeObject | undefined => store.get(kind === 'Secret' ? 'secrets' : 'configmaps', ns, name)
    const value = (kind: 'Secret' | 'ConfigMap', o: KubeObject, k: string): string | undefined => {
      const v = (o.data as Record<string, string> | undefined)?.[k]
      if (v === undefined) return undefined
      return kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v
    }
    for (const from of c.envFrom ?? []) {
      const kind = from.secretRef ? 'Secret' : 'ConfigMap'
      const ref = from.secretRef ?? from.configMapRef
      const o = source(kind, ref.name)
      if (!o) { if (ref.optional) continue; return { error: `${kind.toLowerCase()} "${ref.name}" not found` } }
      for (const k of Object.keys(o.data ?? {})) env[`${from.prefix ?? ''}${k}`] = value(kind, o, k)!
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined || !e.valueFrom) { env[e.name] = String(e.value ?? '').replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all: string, v: string) => env[v] ?? all); continue }
      const vf = e.valueFrom
      if (vf.secretKeyRef || vf.configMapKeyRef) {
        const kind = vf.secretKeyRef ? 'Secret' : 'ConfigMap'
        const ref = vf.secretKeyRef ?? vf.configMapKeyRef
        const o = source(kind, ref.name)
        if (!o) { if (ref.optional) continue; return { error: `${kind.toLowerCase()} "${ref.name}" not found` } }
        const v = value(kind, o, ref.key)
        if (v === undefined) { if (ref.optional) continue; return { error: `couldn't find key ${ref.key} in ${kind} ${ns}/${ref.name}` } }
        env[e.name] = v
      } else if (vf.fieldRef) {
        const path: string = vf.fieldRef.fieldPath
        const fields: Record<string, string | undefined> = {
          'metadata.name': pod.metadata.name, 'metadata.namespace': ns, 'metadata.uid': pod.metadata.uid, 'spec.nodeName': pod.spec?.nodeName, 'spec.serviceAccountName': pod.spec?.serviceAccountName, 'status.podIP': podIP, 'status.hostIP': '127.0.0.1'
        }
        env[e.name] = fields[path] ?? ''
      }
    }
    return { env }
  }

  async #terminate (ns: string, name: string, uid: string, rt: PodRuntime | undefined, podIP: string | undefined, claims: string[]): Promise<void> {
    const { store, recorder, volumes, pool, opts } = this.#d
    const pod = store.get('pods', ns, name)
    const same = pod && pod.metadata.uid === uid
    if (rt?.current) {
      const c = pod?.spec?.containers?.[0]
      if (same && c) recorder.record(refTo(pod!, `spec.containers{${c.name}}`), 'Normal', 'Killing', `Stopping container ${c.name}`, { component: 'kubelet', host: pod!.spec.nodeName })
      const grace = Math.min(((same ? pod!.metadata.deletionGracePeriodSeconds : undefined) ?? 30) * 1000, 10_000)
      await rt.current.stop(grace)
      for (const i of rt.instances.values()) i.finished = true
      rt.current = undefined
    }
    for (const i of rt?.instances.values() ?? []) { i.finished = true; i.log.flush() }
    this.#d.backing.delete(key(ns, name))
    if (podIP && opts.realPostgres) pool.release(podIP)
    for (const claim of claims) await volumes.release(claim)
    this.pods.delete(uid)
    await volumes.removePod(uid)
    // The kubelet's final delete (grace 0): gone unless finalizers hold it.
    if (same && pod!.metadata.deletionTimestamp) store.update('pods', ns, name, p => { if (p.metadata.uid === uid) p.metadata.deletionGracePeriodSeconds = 0 })
  }
}

/** The port the server will listen on, for the pod IP probe: `-c port=` in args, else 5432. */
function postgresPort (c: any): number {
  const argv = serverArgs(c.command, c.args) ?? []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const kv = a === '-c' ? argv[i + 1] ?? '' : a.startsWith('--') ? a.slice(2) : ''
    const m = /^port=(\d+)$/.exec(kv)
    if (m) return Number(m[1])
    if (a === '-p') return Number(argv[i + 1])
  }
  return 5432
}

const syntheticIp = (n: number): string => `127.97.${(n >> 8) & 255}.${(n & 255) || 1}`

export function condition (type: string, status: string, previous: Array<Record<string, unknown>> | undefined, extra: Record<string, string> = {}): Record<string, unknown> {
  const before = previous?.find(c => c.type === type)
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : timestamp()
  return { type, status, lastProbeTime: null, lastTransitionTime, ...extra }
}

/** A container without realPostgres: ready at once, or exiting at once (crash options). */
function synthetic (log: LogWriter, crash: boolean): RunningContainer {
  log.write('stdout', '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n')
  log.write('stderr', `${new Date().toISOString()} [1] LOG:  starting PostgreSQL (fake kube-api container without realPostgres)\n`)
  let resolveExit!: (e: ContainerExit) => void
  const exited = new Promise<ContainerExit>(resolve => { resolveExit = resolve })
  if (crash) {
    log.write('stderr', `${new Date().toISOString()} [1] FATAL:  fake kube-api: this container exits with code 1 (crash option)\n`)
    resolveExit({ exitCode: 1, signal: null })
    return { pid: undefined, port: 5432, pgdata: '', ready: Promise.resolve(false), exited, kill () {}, stop: () => exited }
  }
  log.write('stderr', `${new Date().toISOString()} [1] LOG:  database system is ready to accept connections\n`)
  let gone = false
  return {
    pid: undefined,
    port: 5432,
    pgdata: '',
    ready: Promise.resolve(true),
    exited,
    kill (signal) {
      if (gone) return
      gone = true
      resolveExit({ exitCode: signal === 'SIGKILL' ? 137 : 0, signal })
    },
    async stop () {
      if (!gone) {
        log.write('stderr', `${new Date().toISOString()} [1] LOG:  received fast shutdown request\n`)
        log.write('stderr', `${new Date().toISOString()} [1] LOG:  database system is shut down\n`)
      }
      gone = true
      resolveExit({ exitCode: 0, signal: null })
      return exited
    }
  }
}

function backingOf (c: RunningContainer, podIP: string, podDir: string): BackingPostgres {
  return { hosts: [podIP], dataDir: podDir, pgdata: c.pgdata, pid: c.pid, stop: async () => { await c.stop(10_000) } }
}
