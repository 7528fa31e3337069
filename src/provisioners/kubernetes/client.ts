// The thin layer between the provisioner and the API: create, read, list,
// patch, delete and scale for each kind we touch, every call bounded (the
// caller's signal and a per-request timeout), errors translated at this
// boundary. No decisions are made here.
import {
  AppsV1Api, CoreV1Api, Log, Observable, PatchStrategy, StorageV1Api, VersionApi,
  type ConfigurationOptions, type KubeConfig, type KubernetesObject, type ObservableMiddleware, type V1Scale
} from '@kubernetes/client-node'
import type { Writable } from 'node:stream'
import { isAlreadyExists, isConflict, isNotFound, kubeError } from './errors.ts'

export type Kind = 'Namespace' | 'Secret' | 'ConfigMap' | 'Service' | 'StatefulSet' | 'PersistentVolumeClaim' | 'Pod' | 'Event' | 'StorageClass' | 'Node'

/** Milliseconds one API request may take before it counts as failed (and is retried by whoever called). */
const REQUEST_TIMEOUT_MS = 30_000

interface KindApi {
  path: (ns: string) => string
  create?: (ns: string, body: any, o: ConfigurationOptions) => Promise<KubernetesObject>
  read?: (ns: string, name: string, o: ConfigurationOptions) => Promise<KubernetesObject>
  list?: (ns: string, q: Selectors, o: ConfigurationOptions) => Promise<{ items: KubernetesObject[] }>
  patch?: (ns: string, name: string, body: any, o: ConfigurationOptions) => Promise<KubernetesObject>
  remove?: (ns: string, name: string, body: any, o: ConfigurationOptions) => Promise<unknown>
}

export interface Selectors { labelSelector?: string, fieldSelector?: string }

export interface RemoveOptions {
  /** Delete only this object (preconditions.uid): a same-named successor is left alone. */
  uid?: string | undefined
}

export type KubeClient = ReturnType<typeof createKubeClient>

/** Sets the request's AbortSignal: the caller's, and a per-request timeout. */
function bounded (signal: AbortSignal, contentType?: string): ConfigurationOptions {
  const middleware: ObservableMiddleware = {
    pre: ctx => {
      ctx.setSignal(AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]))
      if (contentType) ctx.setHeaderParam('Content-Type', contentType)
      return new Observable(Promise.resolve(ctx))
    },
    post: res => new Observable(Promise.resolve(res))
  }
  return { middleware: [middleware], middlewareMergeStrategy: 'append' }
}

/**
 * The thin client over `kc` (see the header). Each method takes a Kind, a
 * namespace ('' for cluster-scoped kinds) and the caller's signal; every
 * request is bounded by that signal and by REQUEST_TIMEOUT_MS. Failures are
 * translated by kubeError: 400, 403 and 422 become PermanentProvisionerError,
 * anything else a plain (retryable) Error, the original error kept as cause;
 * an aborted signal surfaces as its reason. An operation a kind has no entry for
 * throws a plain Error (a programming error).
 */
export function createKubeClient (kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const storage = kc.makeApiClient(StorageV1Api)
  const version = kc.makeApiClient(VersionApi)
  // Background propagation: the API answers at once and the garbage collector removes dependents (the pod).
  const del = (body: any) => ({ propagationPolicy: 'Background', ...(body ? { body } : {}) })

  const api: Record<Kind, KindApi> = {
    Namespace: {
      path: () => '/api/v1/namespaces',
      create: (_ns, body, o) => core.createNamespace({ body }, o),
      read: (_ns, name, o) => core.readNamespace({ name }, o)
    },
    Secret: {
      path: ns => `/api/v1/namespaces/${ns}/secrets`,
      create: (namespace, body, o) => core.createNamespacedSecret({ namespace, body }, o),
      read: (namespace, name, o) => core.readNamespacedSecret({ namespace, name }, o),
      list: (namespace, q, o) => core.listNamespacedSecret({ namespace, ...q }, o),
      patch: (namespace, name, body, o) => core.patchNamespacedSecret({ namespace, name, body }, o),
      remove: (namespace, name, body, o) => core.deleteNamespacedSecret({ namespace, name, ...del(body) }, o)
    },
    ConfigMap: {
      path: ns => `/api/v1/namespaces/${ns}/configmaps`,
      create: (namespace, body, o) => core.createNamespacedConfigMap({ namespace, body }, o),
      read: (namespace, name, o) => core.readNamespacedConfigMap({ namespace, name }, o),
      list: (namespace, q, o) => core.listNamespacedConfigMap({ namespace, ...q }, o),
      patch: (namespace, name, body, o) => core.patchNamespacedConfigMap({ namespace, name, body }, o),
      remove: (namespace, name, body, o) => core.deleteNamespacedConfigMap({ namespace, name, ...del(body) }, o)
    },
    Service: {
      path: ns => `/api/v1/namespaces/${ns}/services`,
      create: (namespace, body, o) => core.createNamespacedService({ namespace, body }, o),
      read: (namespace, name, o) => core.readNamespacedService({ namespace, name }, o),
      list: (namespace, q, o) => core.listNamespacedService({ namespace, ...q }, o),
      patch: (namespace, name, body, o) => core.patchNamespacedService({ namespace, name, body }, o),
      remove: (namespace, name, body, o) => core.deleteNamespacedService({ namespace, name, ...del(body) }, o)
    },
    StatefulSet: {
      path: ns => `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      create: (namespace, body, o) => apps.createNamespacedStatefulSet({ namespace, body }, o),
      read: (namespace, name, o) => apps.readNamespacedStatefulSet({ namespace, name }, o),
      list: (namespace, q, o) => apps.listNamespacedStatefulSet({ namespace, ...q }, o),
      patch: (namespace, name, body, o) => apps.patchNamespacedStatefulSet({ namespace, name, body }, o),
      remove: (namespace, name, body, o) => apps.deleteNamespacedStatefulSet({ namespace, name, ...del(body) }, o)
    },
    PersistentVolumeClaim: {
      path: ns => `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      read: (namespace, name, o) => core.readNamespacedPersistentVolumeClaim({ namespace, name }, o),
      list: (namespace, q, o) => core.listNamespacedPersistentVolumeClaim({ namespace, ...q }, o),
      patch: (namespace, name, body, o) => core.patchNamespacedPersistentVolumeClaim({ namespace, name, body }, o),
      remove: (namespace, name, body, o) => core.deleteNamespacedPersistentVolumeClaim({ namespace, name, ...del(body) }, o)
    },
    Pod: {
      path: ns => `/api/v1/namespaces/${ns}/pods`,
      read: (namespace, name, o) => core.readNamespacedPod({ namespace, name }, o),
      list: (namespace, q, o) => core.listNamespacedPod({ namespace, ...q }, o),
      patch: (namespace, name, body, o) => core.patchNamespacedPod({ namespace, name, body }, o),
      remove: (namespace, name, body, o) => core.deleteNamespacedPod({ namespace, name, ...del(body) }, o)
    },
    Event: {
      path: ns => `/api/v1/namespaces/${ns}/events`,
      list: (namespace, q, o) => core.listNamespacedEvent({ namespace, ...q }, o)
    },
    StorageClass: {
      path: () => '/apis/storage.k8s.io/v1/storageclasses',
      read: (_ns, name, o) => storage.readStorageClass({ name }, o)
    },
    Node: {
      path: () => '/api/v1/nodes',
      list: (_ns, q, o) => core.listNode({ ...q }, o)
    }
  }

  const where = (kind: Kind, ns: string, name?: string): string =>
    `${kind} ${kind === 'Namespace' || kind === 'StorageClass' || kind === 'Node' ? '' : `${ns}/`}${name ?? ''}`.trim()

  /** The call, with its errors translated; the caller's abort surfaces as its reason. */
  async function call<T> (signal: AbortSignal, action: string, fn: () => Promise<T>): Promise<T> {
    signal.throwIfAborted()
    try {
      return await fn()
    } catch (err) {
      signal.throwIfAborted()
      throw kubeError(err, action)
    }
  }

  const op = <K extends keyof KindApi>(kind: Kind, name: K): NonNullable<KindApi[K]> => {
    const fn = api[kind][name]
    if (!fn) throw new Error(`the Kubernetes client has no ${String(name)} for ${kind}`)
    return fn as NonNullable<KindApi[K]>
  }

  return {
    /** Where a watch on `kind` in `ns` goes. */
    path: (kind: Kind, ns: string): string => api[kind].path(ns),

    /** The created object, or undefined when one of that name exists (409). */
    async create<T extends KubernetesObject> (kind: Kind, ns: string, body: T, signal: AbortSignal): Promise<T | undefined> {
      try {
        return await call(signal, `create ${where(kind, ns, body.metadata?.name)}`, () => op(kind, 'create')(ns, body, bounded(signal))) as T
      } catch (err) {
        if (isAlreadyExists(err)) return undefined
        throw err
      }
    },

    /** The object, or undefined on 404. */
    async read<T extends KubernetesObject> (kind: Kind, ns: string, name: string, signal: AbortSignal): Promise<T | undefined> {
      try {
        return await call(signal, `read ${where(kind, ns, name)}`, () => op(kind, 'read')(ns, name, bounded(signal))) as T
      } catch (err) {
        if (isNotFound(err)) return undefined
        throw err
      }
    },

    /**
     * Every object of `kind` in `ns` ('' for cluster-scoped kinds) that the
     * label and field selectors match
     * (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/);
     * no limit is set, so one page holds them all.
     */
    async list<T extends KubernetesObject> (kind: Kind, ns: string, q: Selectors, signal: AbortSignal): Promise<T[]> {
      const out = await call(signal, `list ${kind} in ${ns || 'the cluster'}`, () => op(kind, 'list')(ns, q, bounded(signal)))
      return out.items as T[]
    },

    /** A JSON merge patch (RFC 7386): null removes a key. */
    async patch<T extends KubernetesObject> (kind: Kind, ns: string, name: string, body: unknown, signal: AbortSignal): Promise<T> {
      return await call(signal, `patch ${where(kind, ns, name)}`, () => op(kind, 'patch')(ns, name, body, bounded(signal, PatchStrategy.MergePatch))) as T
    },

    /** True when deletion started; false when it was already gone (404) or replaced by a same-named object (precondition 409). */
    async remove (kind: Kind, ns: string, name: string, signal: AbortSignal, opts: RemoveOptions = {}): Promise<boolean> {
      const body = opts.uid ? { preconditions: { uid: opts.uid } } : undefined
      try {
        await call(signal, `delete ${where(kind, ns, name)}`, () => op(kind, 'remove')(ns, name, body, bounded(signal)))
        return true
      } catch (err) {
        if (isNotFound(err) || (opts.uid && isConflict(err))) return false
        throw err
      }
    },

    /** The scale subresource: only spec.replicas changes, whatever else the StatefulSet says. */
    async scale (ns: string, name: string, replicas: number, signal: AbortSignal): Promise<V1Scale> {
      return call(signal, `scale ${where('StatefulSet', ns, name)} to ${replicas}`, () =>
        apps.patchNamespacedStatefulSetScale({ namespace: ns, name, body: { spec: { replicas } } }, bounded(signal, PatchStrategy.MergePatch)))
    },

    /** The last lines of the container's log (`previous`: of the instance before the last restart). */
    async logTail (ns: string, pod: string, opts: { previous: boolean, tailLines: number }, signal: AbortSignal): Promise<string> {
      return call(signal, `read the log of Pod ${ns}/${pod}`, () =>
        core.readNamespacedPodLog({ namespace: ns, name: pod, container: 'postgres', ...opts }, bounded(signal)))
    },

    /** Streams the pod's log into `out`; resolves with a handle that ends it. */
    logs (ns: string, pod: string, out: Writable, opts: { tailLines: number, follow: boolean }): Promise<AbortController> {
      return new Log(kc).log(ns, pod, 'postgres', out, opts)
    },

    /** GET /version: needs no RBAC rule (system:public-info-viewer), so it tells reachable from allowed. */
    async version (signal: AbortSignal): Promise<string> {
      const info = await call(signal, 'read /version', () => version.getCode({}, bounded(signal)))
      return info.gitVersion
    }
  }
}
