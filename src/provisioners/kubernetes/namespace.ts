// The namespace is shared by many instances: created when missing, never
// deleted here. One being deleted refuses new content with 403 until it is
// gone (NamespaceLifecycle admission), which takes as long as its content's
// finalizers: a create there fails at once, with that reason.
import type { V1Namespace } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { KubeClient } from './client.ts'
import { isForbidden } from './errors.ts'
import { buildNamespace } from './manifests.ts'

/** What to tell the user when namespace `ns` is being deleted, and what they can do. */
export const terminatingMessage = (ns: string): string =>
  `namespace ${ns} is being deleted (Terminating): Kubernetes accepts nothing new in it until it is gone; use another namespace or try again once it is deleted`

/**
 * Creates namespace `name` unless it exists: 'created', or 'existing' (also
 * when another caller created it first, and when we may not read namespaces: a
 * 403 on get is taken as "exists", and the creates that follow tell). Throws
 * PermanentProvisionerError when it is being deleted
 * (https://kubernetes.io/docs/reference/access-authn-authz/admission-controllers/#namespacelifecycle),
 * kubeError's errors otherwise.
 */
export async function ensureNamespace (client: KubeClient, name: string, signal: AbortSignal): Promise<'created' | 'existing'> {
  let found: V1Namespace | undefined
  try {
    found = await client.read<V1Namespace>('Namespace', '', name, signal)
  } catch (err) {
    // A namespace-scoped service account may not read namespaces: assume it exists, and let the creates tell.
    if (isForbidden(err)) return 'existing'
    throw err
  }
  if (found) {
    if (found.status?.phase === 'Terminating' || found.metadata?.deletionTimestamp) throw new PermanentProvisionerError(terminatingMessage(name))
    return 'existing'
  }
  const made = await client.create('Namespace', '', buildNamespace(name), signal)
  return made ? 'created' : 'existing'
}
