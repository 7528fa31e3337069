// The namespace is shared by many instances: created when missing, never deleted here.
import type { CoreV1Api } from '@kubernetes/client-node'
import { isAlreadyExists, isForbidden, isNotFound, kubeError } from './errors.ts'
import { buildNamespace } from './manifests.ts'

export async function ensureNamespace (core: CoreV1Api, name: string): Promise<'created' | 'existing'> {
  try {
    await core.readNamespace({ name })
    return 'existing'
  } catch (err) {
    // A namespace-scoped service account may not read namespaces: assume it exists, and let the creates tell.
    if (isForbidden(err)) return 'existing'
    if (!isNotFound(err)) throw kubeError(err, `read Namespace ${name}`)
  }
  try {
    await core.createNamespace({ body: buildNamespace(name) })
    return 'created'
  } catch (err) {
    if (isAlreadyExists(err)) return 'existing'
    throw kubeError(err, `create Namespace ${name}`)
  }
}
