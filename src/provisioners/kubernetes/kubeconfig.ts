// Finds the cluster the way kubectl does ($KUBECONFIG, merged first-wins,
// then ~/.kube/config, then the in-cluster service account), and says
// plainly when there is none. Without
// this, client-node falls back to http://localhost:8080 and every call fails
// with "HTTP protocol is not allowed when skipTLSVerify is not set or false",
// which tells nobody what to fix.
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'

/** Where client-node reads the in-cluster service account (config.ts SERVICEACCOUNT_ROOT). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

export type Loaded =
  | { kc: KubeConfig, source: string, problem: null }
  | { kc: null, source: null, problem: string }

/**
 * `path` is $KUBECONFIG as configuration read it (one file, or several
 * separated by ':'); undefined means the other standard places.
 */
export function loadKubeConfig (path: string | undefined): Loaded {
  const kc = new KubeConfig()
  let source: string
  try {
    if (path) {
      const files = path.split(delimiter).filter(Boolean)
      const present = files.filter(f => existsSync(f))
      if (present.length === 0) return { kc: null, source: null, problem: `no Kubernetes cluster configured: KUBECONFIG names ${files.join(', ')}, ${files.length === 1 ? 'which does not exist' : 'none of which exists'}` }
      mergeAsKubectl(kc, present)
      source = `KUBECONFIG=${path}`
    } else {
      const home = join(homedir(), '.kube', 'config')
      if (existsSync(home)) {
        kc.loadFromFile(home)
        source = home
      } else if (existsSync(SERVICE_ACCOUNT_TOKEN)) {
        kc.loadFromCluster()
        source = 'the in-cluster service account'
      } else {
        return {
          kc: null,
          source: null,
          problem: `no Kubernetes cluster configured: looked for KUBECONFIG (not set), ${home} (does not exist) and the in-cluster service account token ${SERVICE_ACCOUNT_TOKEN} (not running in a pod); set KUBECONFIG to a kubeconfig file`
        }
      }
    }
  } catch (err) {
    return { kc: null, source: null, problem: `the kubeconfig from ${path ? `KUBECONFIG=${path}` : 'the standard places'} cannot be read: ${(err as Error).message}` }
  }
  const problem = clusterProblem(kc, source)
  return problem ? { kc: null, source: null, problem } : { kc, source, problem: null }
}

/**
 * Merges kubeconfig files as kubectl does
 * (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/#merging-kubeconfig-files):
 * files are read in order, missing ones skipped (the caller checked that
 * one exists), and the first file to set a value wins: the first
 * current-context, and the first cluster, user and context of each name.
 * client-node's own mergeConfig lets later files win and throws on a name
 * defined twice. Throws when a file cannot be parsed.
 */
function mergeAsKubectl (kc: KubeConfig, files: string[]): void {
  const first = <T extends { name: string }>(lists: T[][]): T[] => {
    const byName = new Map<string, T>()
    for (const item of lists.flat()) if (!byName.has(item.name)) byName.set(item.name, item)
    return [...byName.values()]
  }
  const loaded = files.map(f => { const one = new KubeConfig(); one.loadFromFile(f); return one })
  kc.loadFromOptions({
    clusters: first(loaded.map(c => c.getClusters())),
    users: first(loaded.map(c => c.getUsers())),
    contexts: first(loaded.map(c => c.getContexts())),
    currentContext: loaded.map(c => c.getCurrentContext()).find(Boolean) ?? ''
  })
}

/** What makes a loaded kubeconfig unusable before any call: no current cluster, or plain http that client-node refuses. */
function clusterProblem (kc: KubeConfig, source: string): string | null {
  const cluster = kc.getCurrentCluster()
  if (!cluster) return `the kubeconfig from ${source} has no current context with a cluster (current-context: "${kc.getCurrentContext() || 'none'}")`
  if (cluster.server.startsWith('http://') && !cluster.skipTLSVerify) {
    return `the kubeconfig from ${source} points at ${cluster.server}, plain HTTP, which @kubernetes/client-node only accepts with insecure-skip-tls-verify: true; use the cluster's https:// address`
  }
  return null
}

/**
 * "the Kubernetes API at <server> (from <source>, context <name>)": for the
 * boot log line and for messages that must say which cluster did not answer.
 */
export function describeCluster (kc: KubeConfig, source: string): string {
  return `the Kubernetes API at ${kc.getCurrentCluster()?.server ?? '(no server)'} (from ${source}, context ${kc.getCurrentContext()})`
}
