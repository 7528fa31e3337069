// The control loops a real cluster runs behind the API: admission and
// defaulting, graceful deletion with finalizers, the StatefulSet controller,
// the garbage collector, the PVC binder/protection/expander, the namespace
// controller, the service controller and the kubelet.
import { randomUUID } from 'node:crypto'
import { findBinaries, postgresRunAs, type RunAs } from '../../../src/postgres/binaries.ts'
import type { BackingPostgres } from './backing-postgres.ts'
import { refTo, Recorder } from './events.ts'
import { clusterIpFor, IpPool } from './ip-pool.ts'
import { Kubelet, Registry, condition } from './kubelet.ts'
import type { ClusterOptions } from './options.ts'
import { RESOURCES, qualified, type KubeObject, type ResourceType } from './resources.ts'
import { ServiceController } from './service-controller.ts'
import { claimsFor, podFor, revisionOf } from './statefulset-children.ts'
import { conflict, forbidden, notFound, StatusError } from './status.ts'
import type { Store, WatchEvent } from './store.ts'
import { Tasks } from './tasks.ts'
import { defaultPullPolicy, quantity, timestamp } from './util.ts'
import { validate, validateUpdate } from './validate.ts'
import { Volumes } from './volumes.ts'

export type { ClusterOptions as ControllerOptions } from './options.ts'

const key = (ns: string | undefined, name: string): string => `${ns}/${name}`
const PVC_PROTECTION = 'kubernetes.io/pvc-protection'

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground'
  gracePeriodSeconds?: number
  preconditions?: { uid?: string, resourceVersion?: string }
}

/** Pod spec defaults (pkg/apis/core/v1/defaults.go), so what is stored is what a real server stores. */
function defaultPodSpec (spec: any): void {
  if (!spec) return
  spec.restartPolicy ??= 'Always'
  spec.terminationGracePeriodSeconds ??= 30
  spec.dnsPolicy ??= 'ClusterFirst'
  spec.schedulerName ??= 'default-scheduler'
  spec.securityContext ??= {}
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if (typeof c.image === 'string') c.imagePullPolicy ??= defaultPullPolicy(c.image)
    c.terminationMessagePath ??= '/dev/termination-log'
    c.terminationMessagePolicy ??= 'File'
    c.resources ??= {}
    for (const p of c.ports ?? []) p.protocol ??= 'TCP'
  }
}

export class Controllers {
  readonly backing = new Map<string, BackingPostgres>()
  readonly recorder: Recorder
  readonly kubelet: Kubelet
  readonly services: ServiceController
  readonly volumes: Volumes
  readonly #store: Store
  readonly #opts: ClusterOptions
  readonly #tasks: Tasks
  readonly #pool = new IpPool()
  readonly #runAs: RunAs | undefined
  readonly #unsubscribe: () => void
  readonly #stsQueue = new Map<string, boolean>() // key → dirty while a sync runs
  #clusterIps = 1
  #nodePorts = 30000

  constructor (store: Store, opts: ClusterOptions, baseDir: string) {
    this.#store = store
    this.#opts = opts
    this.#tasks = new Tasks(store)
    this.#runAs = opts.realPostgres ? postgresRunAs() : undefined
    if (opts.realPostgres) findBinaries()
    this.recorder = new Recorder(store)
    this.volumes = new Volumes(baseDir, this.#runAs, store)
    this.services = new ServiceController(store, this.#tasks, opts, this.#pool, this.recorder)
    this.kubelet = new Kubelet({
      store, tasks: this.#tasks, opts, recorder: this.recorder, volumes: this.volumes, registry: new Registry(opts), pool: this.#pool,
      runAs: this.#runAs, backing: this.backing, addNode: () => this.addNode()
    })
    this.#unsubscribe = store.subscribe(store.resourceVersion, e => this.#on(e))
  }

  addNode (name?: string, region?: string): string {
    const n = name ?? `fake-node-${this.#store.list('nodes').length + 1}`
    const labels: Record<string, string> = { 'kubernetes.io/hostname': n, 'kubernetes.io/os': 'linux' }
    if (region) labels['topology.kubernetes.io/region'] = region
    this.#store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }], addresses: [{ type: 'InternalIP', address: '127.0.0.1' }] } })
    return n
  }

  addStorageClass (sc: { name: string, provisioner?: string, allowVolumeExpansion?: boolean, volumeBindingMode?: string, isDefault?: boolean }): void {
    this.#store.create('storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: sc.name, ...(sc.isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
      provisioner: sc.provisioner ?? 'disk.csi.fake.invalid',
      reclaimPolicy: 'Delete',
      volumeBindingMode: sc.volumeBindingMode ?? 'Immediate',
      allowVolumeExpansion: sc.allowVolumeExpansion ?? false
    })
  }

  // ---- admission -------------------------------------------------------

  #namespaceLifecycle (type: ResourceType, o: KubeObject): void {
    if (!type.namespaced) return
    const ns = this.#store.get('namespaces', undefined, o.metadata.namespace!)
    if (!ns) throw notFound('namespaces', o.metadata.namespace!)
    // k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go
    if (ns.status?.phase === 'Terminating') {
      throw forbidden(type.resource, o.metadata.name, `unable to create new content in namespace ${ns.metadata.name} because it is being terminated`, type.group,
        [{ reason: 'NamespaceTerminating', message: `namespace ${ns.metadata.name} is being terminated`, field: 'metadata.namespace' }])
    }
  }

  #defaultStorageClass (): string | undefined {
    return this.#store.list('storageclasses').find(sc => sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')?.metadata.name
  }

  /** Defaulting and admission before an object is stored (registry PrepareForCreate + admission plugins). */
  async admitCreate (type: ResourceType, o: KubeObject): Promise<void> {
    this.#namespaceLifecycle(type, o)
    const r = type.resource
    if (r === 'secrets') {
      // The API server folds stringData into base64 data and never stores stringData.
      for (const [k, v] of Object.entries(o.stringData ?? {})) (o.data ??= {})[k] = Buffer.from(v).toString('base64')
      delete o.stringData
      o.type ??= 'Opaque'
    } else if (r === 'services') {
      o.spec ??= {}
      o.spec.type ??= 'ClusterIP'
      if (o.spec.clusterIP !== 'None') o.spec.clusterIP = clusterIpFor(this.#clusterIps++)
      o.spec.clusterIPs = [o.spec.clusterIP]
      o.spec.sessionAffinity ??= 'None'
      o.spec.ipFamilies ??= ['IPv4']
      o.spec.ipFamilyPolicy ??= 'SingleStack'
      o.spec.internalTrafficPolicy ??= 'Cluster'
      for (const p of o.spec.ports ?? []) {
        p.protocol ??= 'TCP'
        p.targetPort ??= p.port
        if (o.spec.type === 'LoadBalancer' || o.spec.type === 'NodePort') p.nodePort ??= this.#nodePorts++
      }
      if (o.spec.type === 'LoadBalancer') { o.spec.externalTrafficPolicy ??= 'Cluster'; o.spec.allocateLoadBalancerNodePorts ??= true }
      o.status = { loadBalancer: {} }
      await this.services.allocate(o)
    } else if (r === 'namespaces') {
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name }
      o.spec = { finalizers: ['kubernetes'] }
      o.status = { phase: 'Active' }
    } else if (r === 'pods') {
      defaultPodSpec(o.spec)
      o.status = { phase: 'Pending' }
    } else if (r === 'persistentvolumeclaims') {
      o.spec.volumeMode ??= 'Filesystem'
      // DefaultStorageClass admission (plugin/pkg/admission/storage/storageclass/setdefault).
      if (o.spec.storageClassName === undefined) { const d = this.#defaultStorageClass(); if (d) o.spec.storageClassName = d }
      if (this.#opts.pvcProtection) o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), PVC_PROTECTION])]
      o.status = { phase: 'Pending' }
      // Without a binding delay, the claim is bound as it is stored (today's fake).
      if (this.#opts.volumeBindingDelayMs <= 0) this.#bindNow(o)
    } else if (r === 'statefulsets') {
      this.#defaultStatefulSet(o.spec)
      o.status = { replicas: 0, availableReplicas: 0 }
    }
  }

  #defaultStatefulSet (spec: any): void {
    spec.replicas ??= 1
    spec.podManagementPolicy ??= 'OrderedReady'
    spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }
    if (spec.updateStrategy.type === 'RollingUpdate') spec.updateStrategy.rollingUpdate ??= { partition: 0 }
    spec.revisionHistoryLimit ??= 10
    spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' }
    for (const t of spec.volumeClaimTemplates ?? []) {
      t.apiVersion ??= 'v1'
      t.kind ??= 'PersistentVolumeClaim'
      t.spec.volumeMode ??= 'Filesystem'
    }
    defaultPodSpec(spec.template?.spec)
  }

  /** Update defaulting, validation and admission (PrepareForUpdate, ValidateUpdate, PersistentVolumeClaimResize). */
  admitUpdate (type: ResourceType, old: KubeObject, next: KubeObject): void {
    const r = type.resource
    if (type.hasStatus) next.status = structuredClone(old.status)
    if (r === 'secrets') {
      for (const [k, v] of Object.entries(next.stringData ?? {})) (next.data ??= {})[k] = Buffer.from(v).toString('base64')
      delete next.stringData
      next.type ??= old.type
    } else if (r === 'services') {
      next.spec ??= {}
      next.spec.type ??= 'ClusterIP'
      next.spec.clusterIP ??= old.spec?.clusterIP
      next.spec.clusterIPs = next.spec.clusterIP ? [next.spec.clusterIP] : old.spec?.clusterIPs
      for (const p of next.spec.ports ?? []) { p.protocol ??= 'TCP'; p.targetPort ??= p.port }
    } else if (r === 'statefulsets') {
      this.#defaultStatefulSet(next.spec ?? {})
    } else if (r === 'pods') {
      defaultPodSpec(next.spec)
      if (old.spec?.nodeName) next.spec.nodeName ??= old.spec.nodeName
    } else if (r === 'persistentvolumeclaims') {
      next.spec.volumeMode ??= 'Filesystem'
      next.spec.storageClassName ??= old.spec?.storageClassName
      next.spec.volumeName ??= old.spec?.volumeName
    } else if (r === 'namespaces') {
      next.spec = old.spec
    }
    validate(type, next)
    validateUpdate(type, old, next, quantity)
    if (r === 'persistentvolumeclaims') {
      const before = quantity(old.spec?.resources?.requests?.storage)
      const after = quantity(next.spec?.resources?.requests?.storage)
      if (after > before) {
        if (old.status?.phase !== 'Bound') throw forbidden(r, old.metadata.name, 'Only bound persistent volume claims can be expanded')
        const sc = this.#store.get('storageclasses', undefined, old.spec?.storageClassName ?? '')
        if (!sc || sc.allowVolumeExpansion !== true) {
          throw forbidden(r, old.metadata.name, 'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize')
        }
      }
    }
  }

  // ---- deletion --------------------------------------------------------

  /** DELETE from the API: graceful for pods, held by finalizers, propagated to dependents. */
  async remove (resource: string, ns: string | undefined, name: string, del: DeleteOptions = {}): Promise<KubeObject> {
    const type = RESOURCES[resource]!
    const o = this.#store.get(resource, ns, name)
    if (!o) throw notFound(resource, name, type.group)
    const pre = del.preconditions
    if (pre?.uid && pre.uid !== o.metadata.uid) throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(type)} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${o.metadata.uid}`, { name, group: type.group, kind: resource })
    if (pre?.resourceVersion && pre.resourceVersion !== o.metadata.resourceVersion) throw conflict(resource, name, type.group)
    const now = timestamp()
    if (o.metadata.deletionTimestamp) {
      if (resource === 'pods' && del.gracePeriodSeconds === 0) return this.#store.update('pods', ns, name, p => { p.metadata.deletionGracePeriodSeconds = 0 })!
      return o
    }
    if (resource === 'namespaces') {
      if (!this.#opts.namespaceTermination) return this.#store.remove(resource, ns, name)
      const out = this.#store.update(resource, ns, name, n => {
        n.metadata.deletionTimestamp = now
        n.metadata.deletionGracePeriodSeconds = 0
        n.status = { phase: 'Terminating' }
      })!
      this.#tasks.run(`namespace ${name}`, () => this.#terminateNamespace(name))
      return out
    }
    if (del.propagationPolicy === 'Orphan') this.#orphan(o)
    if (resource === 'pods') {
      const scheduled = !!o.spec?.nodeName && this.kubelet.running(o.metadata.uid!)
      const grace = !scheduled ? 0 : (del.gracePeriodSeconds ?? o.spec?.terminationGracePeriodSeconds ?? 30)
      return this.#store.update('pods', ns, name, p => { p.metadata.deletionTimestamp = now; p.metadata.deletionGracePeriodSeconds = grace })!
    }
    const finalizers = [...(o.metadata.finalizers ?? [])]
    if (del.propagationPolicy === 'Foreground') finalizers.push('foregroundDeletion')
    if (finalizers.length > 0) {
      const out = this.#store.update(resource, ns, name, x => { x.metadata.deletionTimestamp = now; x.metadata.deletionGracePeriodSeconds = 0; x.metadata.finalizers = finalizers })!
      if (del.propagationPolicy === 'Foreground') this.#tasks.run(`foreground ${resource} ${name}`, () => this.#foreground(resource, out))
      return out
    }
    return this.#store.remove(resource, ns, name)
  }

  #dependents (owner: KubeObject): Array<[string, KubeObject]> {
    const out: Array<[string, KubeObject]> = []
    for (const r of ['pods', 'persistentvolumeclaims', 'statefulsets', 'secrets', 'configmaps', 'services']) {
      for (const o of this.#store.list(r, owner.metadata.namespace)) if (o.metadata.ownerReferences?.some(ref => ref.uid === owner.metadata.uid)) out.push([r, o])
    }
    return out
  }

  #orphan (owner: KubeObject): void {
    for (const [r, o] of this.#dependents(owner)) {
      this.#store.update(r, o.metadata.namespace, o.metadata.name, x => { x.metadata.ownerReferences = x.metadata.ownerReferences?.filter(ref => ref.uid !== owner.metadata.uid) })
    }
  }

  /** The garbage collector's foreground deletion: dependents first, then the owner's finalizer goes. */
  async #foreground (resource: string, owner: KubeObject): Promise<void> {
    for (;;) {
      const deps = this.#dependents(owner)
      if (deps.length === 0) break
      for (const [r, o] of deps) if (!o.metadata.deletionTimestamp) await this.remove(r, o.metadata.namespace, o.metadata.name).catch(() => {})
      await this.#tasks.change(1000, e => e.type === 'DELETED' || e.resource === 'pods')
    }
    this.#store.update(resource, owner.metadata.namespace, owner.metadata.name, x => { x.metadata.finalizers = x.metadata.finalizers?.filter(f => f !== 'foregroundDeletion') })
  }

  /** The namespace controller (pkg/controller/namespace/deletion): content first, then the namespace. */
  async #terminateNamespace (ns: string): Promise<void> {
    const namespaced = Object.values(RESOURCES).filter(t => t.namespaced)
    for (;;) {
      const remaining = namespaced.map(t => [t, this.#store.list(t.resource, ns)] as const).filter(([, list]) => list.length > 0)
      if (remaining.length === 0) break
      for (const [t, list] of remaining) for (const o of list) if (!o.metadata.deletionTimestamp) await this.remove(t.resource, ns, o.metadata.name).catch(() => {})
      const still = namespaced.map(t => [t, this.#store.list(t.resource, ns)] as const).filter(([, list]) => list.length > 0)
      const finalizers = new Map<string, number>()
      for (const [, list] of still) for (const o of list) for (const f of o.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1)
      this.#store.update('namespaces', undefined, ns, n => {
        const conds = []
        if (still.length > 0) conds.push(condition('NamespaceContentRemaining', 'True', n.status?.conditions, { reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${still.map(([t, l]) => `${t.resource}.${t.group} has ${l.length} resource instances`).join(', ')}` }))
        if (finalizers.size > 0) conds.push(condition('NamespaceFinalizersRemaining', 'True', n.status?.conditions, { reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${[...finalizers].map(([f, c]) => `${f} in ${c} resource instances`).join(', ')}` }))
        n.status = { phase: 'Terminating', conditions: conds }
      })
      await this.#tasks.change(this.#opts.kubeletSyncMs * 5, e => e.object.metadata.namespace === ns)
    }
    this.#store.update('namespaces', undefined, ns, n => { n.spec = { finalizers: [] }; n.metadata.finalizers = [] })
    if (this.#store.get('namespaces', undefined, ns)) this.#store.remove('namespaces', undefined, ns)
  }

  // ---- event dispatch --------------------------------------------------

  #later (what: string, fn: () => unknown): void {
    this.#tasks.run(what, async () => { await this.#tasks.sleep(this.#opts.tickMs); await fn() })
  }

  #on (e: WatchEvent): void {
    const m = e.object.metadata
    const r = e.resource
    if (r === 'statefulsets') {
      if (e.type === 'DELETED') this.#later('garbage collector', () => this.#collectGarbage(e.object))
      else this.#queueSts(m.namespace, m.name)
    }
    if (r === 'pods') {
      const owner = m.ownerReferences?.find(o => o.kind === 'StatefulSet')
      if (owner) this.#queueSts(m.namespace, String(owner.name))
      if (e.type === 'ADDED' && this.#opts.kubelet === 'auto' && !m.deletionTimestamp) void this.kubelet.start(e.object)
      if (e.type === 'DELETED' || m.deletionTimestamp || e.object.status?.phase === 'Succeeded' || e.object.status?.phase === 'Failed') this.#later('pvc protection', () => this.#releaseClaims(m.namespace))
      // A pod nobody runs (manual kubelet, never started) is deleted at once.
      if (e.type === 'MODIFIED' && m.deletionTimestamp && !this.kubelet.running(m.uid!) && m.deletionGracePeriodSeconds !== 0) {
        this.#store.update('pods', m.namespace, m.name, p => { if (p.metadata.uid === m.uid) p.metadata.deletionGracePeriodSeconds = 0 })
      }
    }
    if (r === 'services') {
      if (e.type === 'ADDED' && e.object.spec?.type === 'LoadBalancer') this.#later('service controller', () => this.services.ensure(m.namespace, m.name))
      if (e.type === 'DELETED') this.#tasks.run('service controller', () => this.services.release(m.namespace, m.name))
    }
    if (r === 'persistentvolumeclaims') {
      if (e.type === 'ADDED' && e.object.status?.phase !== 'Bound') this.#tasks.run(`pv controller ${m.name}`, () => this.#provision(m.namespace, m.name, m.uid!))
      if (e.type === 'MODIFIED' && m.deletionTimestamp) this.#later('pvc protection', () => this.#releaseClaims(m.namespace))
      if (e.type === 'MODIFIED') this.#maybeExpand(e.object)
      if (e.type === 'DELETED') this.#tasks.run('pv deleter', () => this.volumes.deleteClaim(m.uid!))
    }
    if (r === 'namespaces' && e.type === 'DELETED' && !this.#opts.namespaceTermination) this.#later('namespace controller', () => this.#emptyNamespace(m.name))
  }

  async #collectGarbage (owner: KubeObject): Promise<void> {
    for (const [r, o] of this.#dependents(owner)) {
      if (o.metadata.ownerReferences?.some(ref => ref.uid !== owner.metadata.uid && ref.controller)) continue
      if (!o.metadata.deletionTimestamp) await this.remove(r, o.metadata.namespace, o.metadata.name).catch(() => {})
    }
  }

  async #emptyNamespace (ns: string): Promise<void> {
    for (const resource of Object.keys(RESOURCES)) {
      if (!RESOURCES[resource]!.namespaced) continue
      for (const o of this.#store.list(resource, ns)) await this.remove(resource, ns, o.metadata.name).catch(() => {})
    }
  }

  // ---- PersistentVolumeClaims ------------------------------------------

  #bindNow (claim: KubeObject): void {
    const sc = this.#store.get('storageclasses', undefined, claim.spec?.storageClassName ?? '')
    claim.spec.volumeName = `pvc-${randomUUID()}`
    claim.metadata.annotations = {
      ...claim.metadata.annotations,
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      ...(sc ? { 'volume.beta.kubernetes.io/storage-provisioner': String(sc.provisioner), 'volume.kubernetes.io/storage-provisioner': String(sc.provisioner) } : {})
    }
    claim.status = { phase: 'Bound', accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'], capacity: { ...claim.spec.resources.requests } }
  }

  /**
   * pkg/controller/volume/persistentvolume/pv_controller.go with an external
   * CSI provisioner: ExternalProvisioning, Provisioning, then after the delay
   * ProvisioningSucceeded and the claim Bound with its capacity.
   */
  async #provision (ns: string | undefined, name: string, uid: string): Promise<void> {
    const claim = (): KubeObject | undefined => { const c = this.#store.get('persistentvolumeclaims', ns, name); return c?.metadata.uid === uid ? c : undefined }
    let c = claim()
    if (!c || c.status?.phase === 'Bound') return
    const pvc = { component: 'persistentvolume-controller' }
    const className: string | undefined = c.spec?.storageClassName
    if (!className) {
      this.recorder.record(refTo(c), 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', pvc)
      return
    }
    let sc = this.#store.get('storageclasses', undefined, className)
    while (!sc) {
      this.recorder.record(refTo(c), 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`, pvc)
      await this.#tasks.change(15_000, e => e.resource === 'storageclasses')
      sc = this.#store.get('storageclasses', undefined, className)
      c = claim()
      if (!c) return
    }
    if (sc.volumeBindingMode === 'WaitForFirstConsumer') {
      this.recorder.record(refTo(c), 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', pvc)
      while (!(c = claim())?.metadata.annotations?.['volume.kubernetes.io/selected-node']) {
        if (!c) return
        await this.#tasks.change(15_000, e => e.resource === 'persistentvolumeclaims' && e.object.metadata.uid === uid)
      }
    }
    const provisioner = String(sc.provisioner)
    const csi = { component: `${provisioner}_fake-csi-controller-0_${uid.slice(0, 8)}` }
    this.recorder.record(refTo(c), 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`, pvc)
    this.recorder.record(refTo(c), 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${ns}/${name}"`, csi)
    await this.#tasks.sleep(this.#opts.volumeBindingDelayMs)
    if (!claim()) return
    const bound = this.#store.update('persistentvolumeclaims', ns, name, x => { this.#bindNow(x) })!
    this.recorder.record(refTo(bound), 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${bound.spec.volumeName}`, csi)
  }

  /** The pvc-protection controller: the finalizer goes once no pod uses the claim (pkg/controller/volume/pvcprotection). */
  #releaseClaims (ns: string | undefined): void {
    const inUse = new Set<string>()
    for (const p of this.#store.list('pods', ns)) {
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue
      for (const v of p.spec?.volumes ?? []) if (v.persistentVolumeClaim) inUse.add(v.persistentVolumeClaim.claimName)
    }
    for (const c of this.#store.list('persistentvolumeclaims', ns)) {
      if (!c.metadata.deletionTimestamp || !c.metadata.finalizers?.includes(PVC_PROTECTION) || inUse.has(c.metadata.name)) continue
      this.#store.update('persistentvolumeclaims', ns, c.metadata.name, x => { x.metadata.finalizers = x.metadata.finalizers?.filter(f => f !== PVC_PROTECTION) })
    }
  }

  readonly #expanding = new Set<string>()

  /**
   * Volume expansion (pkg/controller/volume/expand, external-resizer, the
   * kubelet's NodeExpandVolume): Resizing, then FileSystemResizePending until
   * a pod has the volume mounted, then capacity = the new size.
   */
  #maybeExpand (c: KubeObject): void {
    const uid = c.metadata.uid!
    const want = quantity(c.spec?.resources?.requests?.storage)
    const have = quantity(c.status?.capacity?.storage)
    if (c.status?.phase !== 'Bound' || !(want > have) || this.#expanding.has(uid)) return
    this.#expanding.add(uid)
    const ns = c.metadata.namespace
    const name = c.metadata.name
    const size = c.spec.resources.requests.storage
    const sc = this.#store.get('storageclasses', undefined, c.spec.storageClassName ?? '')
    const resizer = { component: `external-resizer ${sc?.provisioner ?? 'disk.csi.fake.invalid'}` }
    this.#tasks.run(`expand ${name}`, async () => {
      try {
        this.recorder.record(refTo(c), 'Normal', 'ExternalExpanding', 'waiting for an external controller to expand this PVC', { component: 'volume_expand' })
        this.#store.update('persistentvolumeclaims', ns, name, x => {
          x.status.conditions = [condition('Resizing', 'True', undefined)]
          x.status.allocatedResources = { storage: size }
          x.status.allocatedResourceStatuses = { storage: 'ControllerResizeInProgress' }
        })
        this.recorder.record(refTo(c), 'Normal', 'Resizing', `External resizer is resizing volume ${c.spec.volumeName}`, resizer)
        await this.#tasks.sleep(this.#opts.volumeExpansionMs)
        this.recorder.record(refTo(c), 'Normal', 'FileSystemResizeRequired', 'Require file system resize of volume on node', resizer)
        this.#store.update('persistentvolumeclaims', ns, name, x => {
          x.status.conditions = [condition('FileSystemResizePending', 'True', undefined, { message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.' })]
          x.status.allocatedResourceStatuses = { storage: 'NodeResizePending' }
        })
        // The kubelet finishes it on the node where a pod has the volume mounted.
        let node: string | undefined
        for (;;) {
          const pod = this.#store.list('pods', ns).find(p => p.status?.phase === 'Running' && p.spec?.volumes?.some((v: any) => v.persistentVolumeClaim?.claimName === name))
          if (!this.#store.get('persistentvolumeclaims', ns, name)) return
          if (pod) { node = pod.spec.nodeName; break }
          await this.#tasks.change(this.#opts.kubeletSyncMs * 10, e => e.resource === 'pods' && e.object.metadata.namespace === ns)
        }
        await this.#tasks.sleep(this.#opts.volumeExpansionMs)
        this.#store.update('persistentvolumeclaims', ns, name, x => {
          x.status.capacity = { ...x.status.capacity, storage: size }
          delete x.status.conditions
          delete x.status.allocatedResourceStatuses
        })
        this.recorder.record(refTo(c), 'Normal', 'FileSystemResizeSuccessful', `MountVolume.NodeExpandVolume succeeded for volume "${c.spec.volumeName}" ${node}`, { component: 'kubelet', host: node })
      } finally {
        this.#expanding.delete(uid)
        const now = this.#store.get('persistentvolumeclaims', ns, name)
        if (now) this.#maybeExpand(now)
      }
    })
  }

  // ---- StatefulSet controller ------------------------------------------

  #queueSts (ns: string | undefined, name: string): void {
    const k = key(ns, name)
    if (this.#stsQueue.has(k)) { this.#stsQueue.set(k, true); return }
    this.#stsQueue.set(k, false)
    this.#tasks.run(`statefulset ${k}`, async () => {
      try {
        do {
          this.#stsQueue.set(k, false)
          await this.#tasks.sleep(this.#opts.tickMs)
          await this.#syncSts(ns, name)
        } while (this.#stsQueue.get(k))
      } finally { this.#stsQueue.delete(k) }
    })
  }

  /**
   * pkg/controller/statefulset/stateful_set_control.go, simplified: create
   * missing ordinals (OrderedReady: each after its predecessor is Running and
   * Ready), delete ordinals above spec.replicas highest first, and with
   * RollingUpdate replace pods of an older revision from the highest ordinal
   * down, one at a time. A deleted pod is recreated with the same name and
   * claim, once the old one is gone.
   */
  async #syncSts (ns: string | undefined, name: string): Promise<void> {
    const sts = this.#store.get('statefulsets', ns, name)
    if (!sts || sts.metadata.deletionTimestamp) return
    const src = { component: 'statefulset-controller' }
    const replicas: number = sts.spec.replicas ?? 1
    const revision = revisionOf(sts)
    const ordered = sts.spec.podManagementPolicy !== 'Parallel'
    const pods = new Map<number, KubeObject>()
    for (const p of this.#store.list('pods', ns)) {
      if (!p.metadata.ownerReferences?.some(r => r.uid === sts.metadata.uid)) continue
      const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`).exec(p.metadata.name)
      if (m) pods.set(Number(m[1]), p)
    }
    const healthy = (p: KubeObject | undefined): boolean => !!p && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
    let acted = false
    for (let i = 0; i < replicas && !acted; i++) {
      const p = pods.get(i)
      if (!p) {
        for (const claim of claimsFor(sts, i)) {
          if (this.#store.get('persistentvolumeclaims', ns, claim.metadata.name)) continue
          if (this.#createChild('persistentvolumeclaims', claim)) this.recorder.record(refTo(sts), 'Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${name}-${i} in StatefulSet ${name} success`, src)
        }
        const pod = podFor(sts, i)
        if (this.#createChild('pods', pod)) this.recorder.record(refTo(sts), 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${name} successful`, src)
        if (ordered) acted = true
        continue
      }
      if (ordered && !healthy(p)) acted = true
    }
    if (!acted) {
      const extra = [...pods.keys()].filter(i => i >= replicas).sort((a, b) => b - a)
      for (const i of extra) {
        const p = pods.get(i)!
        if (p.metadata.deletionTimestamp) { if (ordered) { acted = true; break } else continue }
        await this.remove('pods', ns, p.metadata.name).catch(() => {})
        this.recorder.record(refTo(sts), 'Normal', 'SuccessfulDelete', `delete Pod ${p.metadata.name} in StatefulSet ${name} successful`, src)
        acted = true
        if (ordered) break
      }
    }
    const strategy = sts.spec.updateStrategy?.type ?? 'RollingUpdate'
    const partition: number = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0
    if (!acted && strategy === 'RollingUpdate') {
      const all = [...pods.entries()].filter(([i]) => i < replicas)
      if (all.length === replicas && all.every(([, p]) => healthy(p))) {
        const stale = all.filter(([i, p]) => i >= partition && p.metadata.labels?.['controller-revision-hash'] !== revision).sort((a, b) => b[0] - a[0])[0]
        if (stale) {
          await this.remove('pods', ns, stale[1].metadata.name).catch(() => {})
          this.recorder.record(refTo(sts), 'Normal', 'SuccessfulDelete', `delete Pod ${stale[1].metadata.name} in StatefulSet ${name} successful`, src)
        }
      }
    }
    const live = [...pods.values()].filter(p => !p.metadata.deletionTimestamp)
    const ready = live.filter(healthy).length
    const updated = live.filter(p => p.metadata.labels?.['controller-revision-hash'] === revision).length
    const status = {
      observedGeneration: sts.metadata.generation,
      replicas: live.length,
      readyReplicas: ready,
      currentReplicas: updated,
      updatedReplicas: updated,
      availableReplicas: ready,
      currentRevision: revision,
      updateRevision: revision,
      collisionCount: 0
    }
    if (JSON.stringify(sts.status) !== JSON.stringify(status)) this.#store.update('statefulsets', ns, name, s => { if (s.metadata.uid === sts.metadata.uid) s.status = status })
  }

  /** Creates as a controller would: through validation, so a bad name fails here too (e.g. a too-long revision label). */
  #createChild (resource: string, o: KubeObject): boolean {
    try {
      const type = RESOURCES[resource]!
      validate(type, o)
      this.#namespaceLifecycle(type, o)
      if (resource === 'pods') { defaultPodSpec(o.spec); o.status = { phase: 'Pending' } }
      if (resource === 'persistentvolumeclaims') {
        o.spec.volumeMode ??= 'Filesystem'
        if (o.spec.storageClassName === undefined) { const d = this.#defaultStorageClass(); if (d) o.spec.storageClassName = d }
        if (this.#opts.pvcProtection) o.metadata.finalizers = [PVC_PROTECTION]
        o.status = { phase: 'Pending' }
        if (this.#opts.volumeBindingDelayMs <= 0) this.#bindNow(o)
      }
      this.#store.create(resource, o)
      return true
    } catch (err) {
      if (!(err instanceof StatusError)) throw err
      process.stderr.write(`fake kube-api: controller could not create ${resource} ${o.metadata.name}: ${err.message}\n`)
      return false
    }
  }

  // ---- test hooks ------------------------------------------------------

  /**
   * The kubelet's work on one pod, now (for kubelet: 'manual'). Rejects when
   * there is no such pod: a test that starts a pod before its controller made
   * it would otherwise wait for ever.
   */
  startPod (ns: string, name: string): Promise<void> {
    const pod = this.#store.get('pods', ns, name)
    return pod ? this.kubelet.start(pod) : Promise.reject(new Error(`no pod ${ns}/${name} to start: its StatefulSet controller has not made it (yet)`))
  }

  async close (): Promise<void> {
    this.#unsubscribe()
    await this.#tasks.close()
    await this.services.close()
    await Promise.allSettled([...this.backing.values()].map(b => b.stop()))
  }
}
