// An instance directory is ours only when its instance.json carries our
// mark: this control plane's id and this instance's id. A directory of the
// same name without it (another control plane's, a user's, a leftover of an
// earlier instance of that name) is never adopted, changed or removed.
import { stat } from 'node:fs/promises'
import type { OwnedRef } from '../types.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import { readMeta, type InstanceMeta, type InstancePaths } from './layout.ts'

export type Ownership =
  | { readonly state: 'absent' }
  | { readonly state: 'ours', readonly meta: InstanceMeta }
  | { readonly state: 'foreign', readonly reason: string }

/**
 * Whose `paths.dir` is: 'absent' when there is no such directory; 'ours', with
 * its instance.json, when that names this control plane and `ref`'s id,
 * namespace and name; else 'foreign', with why in words. Throws on a file
 * system error other than ENOENT.
 */
export async function ownershipOf (paths: InstancePaths, ref: OwnedRef, controlPlaneId: string): Promise<Ownership> {
  const exists = await stat(paths.dir).then(() => true, (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return false
    throw err
  })
  if (!exists) return { state: 'absent' }
  const meta = await readMeta(paths)
  if (meta === undefined) return { state: 'foreign', reason: 'it has no instance.json' }
  if (meta === null || typeof meta.instance_id !== 'string' || typeof meta.control_plane_id !== 'string') {
    return { state: 'foreign', reason: 'its instance.json carries no Toygres mark' }
  }
  if (meta.control_plane_id !== controlPlaneId) return { state: 'foreign', reason: `it is marked for control plane ${meta.control_plane_id}` }
  if (meta.instance_id !== ref.instance_id) return { state: 'foreign', reason: `it is marked for instance ${meta.instance_id}, not ${ref.instance_id}` }
  if (meta.namespace !== ref.namespace || meta.instance_name !== ref.instance_name) return { state: 'foreign', reason: `it is marked for ${meta.namespace}/${meta.instance_name}` }
  return { state: 'ours', meta: meta as InstanceMeta }
}

/**
 * The permanent error for a directory of that name without our mark: says
 * nothing in it was changed, and how to free the name.
 */
export function notOursError (paths: InstancePaths, reason: string): PermanentProvisionerError {
  return new PermanentProvisionerError(`a local instance directory ${paths.key} exists and is not managed by this control plane (${reason}); nothing in it was changed: move ${paths.dir} away or use another name`)
}

/** The instance's metadata when the directory is ours; a permanent error naming why not otherwise. */
export async function requireOurs (paths: InstancePaths, ref: OwnedRef, controlPlaneId: string): Promise<InstanceMeta> {
  const found = await ownershipOf(paths, ref, controlPlaneId)
  if (found.state === 'ours') return found.meta
  if (found.state === 'foreign') throw notOursError(paths, found.reason)
  throw new PermanentProvisionerError(`no local instance ${paths.key}: deploy it first`)
}
