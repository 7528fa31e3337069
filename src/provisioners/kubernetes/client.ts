// The thin layer between manifests and the API: create-if-missing,
// delete-if-present and read-for-watch for each kind we manage, with
// errors translated at this boundary.
import { AppsV1Api, CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node'
import { isAlreadyExists, isNotFound, kubeError } from './errors.ts'
import type { WatchTarget } from './watch-until.ts'

export type Kind = 'Secret' | 'Service' | 'StatefulSet' | 'PersistentVolumeClaim' | 'Pod'

interface List { metadata?: { resourceVersion?: string }, items: KubernetesObject[] }

interface KindApi {
  collection: (ns: string) => string
  create: (ns: string, body: any) => Promise<unknown>
  remove: (ns: string, name: string) => Promise<unknown>
  list: (ns: string, query: { fieldSelector?: string, labelSelector?: string }) => Promise<List>
}

export type KubeClient = ReturnType<typeof createKubeClient>

export function createKubeClient (kc: KubeConfig) {
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const api: Record<Kind, KindApi> = {
    Secret: {
      collection: ns => `/api/v1/namespaces/${ns}/secrets`,
      create: (namespace, body) => core.createNamespacedSecret({ namespace, body }),
      remove: (namespace, name) => core.deleteNamespacedSecret({ namespace, name }),
      list: (namespace, q) => core.listNamespacedSecret({ namespace, ...q })
    },
    Service: {
      collection: ns => `/api/v1/namespaces/${ns}/services`,
      create: (namespace, body) => core.createNamespacedService({ namespace, body }),
      remove: (namespace, name) => core.deleteNamespacedService({ namespace, name }),
      list: (namespace, q) => core.listNamespacedService({ namespace, ...q })
    },
    StatefulSet: {
      collection: ns => `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      create: (namespace, body) => apps.createNamespacedStatefulSet({ namespace, body }),
      // Background: the API returns at once and the garbage collector removes the pod.
      remove: (namespace, name) => apps.deleteNamespacedStatefulSet({ namespace, name, propagationPolicy: 'Background' }),
      list: (namespace, q) => apps.listNamespacedStatefulSet({ namespace, ...q })
    },
    PersistentVolumeClaim: {
      collection: ns => `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      create: (namespace, body) => core.createNamespacedPersistentVolumeClaim({ namespace, body }),
      remove: (namespace, name) => core.deleteNamespacedPersistentVolumeClaim({ namespace, name }),
      list: (namespace, q) => core.listNamespacedPersistentVolumeClaim({ namespace, ...q })
    },
    Pod: {
      collection: ns => `/api/v1/namespaces/${ns}/pods`,
      create: (namespace, body) => core.createNamespacedPod({ namespace, body }),
      remove: (namespace, name) => core.deleteNamespacedPod({ namespace, name }),
      list: (namespace, q) => core.listNamespacedPod({ namespace, ...q })
    }
  }

  return {
    core,

    /** 'created', or 'existing' when it was already there (409): we leave it as it is. */
    async createIfMissing (kind: Kind, ns: string, body: KubernetesObject): Promise<'created' | 'existing'> {
      try {
        await api[kind].create(ns, body)
        return 'created'
      } catch (err) {
        if (isAlreadyExists(err)) return 'existing'
        throw kubeError(err, `create ${kind} ${ns}/${body.metadata?.name}`)
      }
    },

    /** True when it existed (deletion started), false on 404. */
    async deleteIfPresent (kind: Kind, ns: string, name: string): Promise<boolean> {
      try {
        await api[kind].remove(ns, name)
        return true
      } catch (err) {
        if (isNotFound(err)) return false
        throw kubeError(err, `delete ${kind} ${ns}/${name}`)
      }
    },

    async listNames (kind: Kind, ns: string, labelSelector: string): Promise<string[]> {
      try {
        const list = await api[kind].list(ns, { labelSelector })
        return list.items.map(o => o.metadata?.name).filter((n): n is string => !!n)
      } catch (err) {
        throw kubeError(err, `list ${kind} in ${ns}`)
      }
    },

    /** What watchUntil needs to follow one object. A list (not a get) gives a resourceVersion to watch from. */
    target<T extends KubernetesObject> (kind: Kind, ns: string, name: string): WatchTarget<T> {
      return {
        path: api[kind].collection(ns),
        name,
        read: async () => {
          try {
            const list = await api[kind].list(ns, { fieldSelector: `metadata.name=${name}` })
            return { object: list.items[0] as T | undefined, resourceVersion: list.metadata?.resourceVersion }
          } catch (err) {
            throw kubeError(err, `read ${kind} ${ns}/${name}`)
          }
        }
      }
    }
  }
}
