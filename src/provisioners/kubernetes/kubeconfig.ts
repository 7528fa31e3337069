// Finds the cluster the way kubectl and @kubernetes/client-node do
// (KubeConfig.loadFromDefault: $KUBECONFIG, then ~/.kube/config, then the
// in-cluster service account), and says plainly when there is none. Without
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
      const missing = files.filter(f => !existsSync(f))
      if (missing.length > 0) return { kc: null, source: null, problem: `no Kubernetes cluster configured: KUBECONFIG names ${missing.join(', ')}, which does not exist` }
      kc.loadFromFile(files[0]!)
      for (const f of files.slice(1)) {
        const more = new KubeConfig()
        more.loadFromFile(f)
        kc.mergeConfig(more)
      }
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
