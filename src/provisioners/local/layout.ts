// Where the local provisioner keeps things under its data directory:
//
//   <dataDir>/templates/pg<major>/                 initialised once, copied per instance
//   <dataDir>/templates/pg<major>-spares/spare-*/  a copy made ahead, taken by the next create
//   <dataDir>/ports/<port> -> <namespace>/<name>   one symlink per reserved port
//   <dataDir>/instances/<namespace>/<name>/
//       instance.json                              port and versions (never the password)
//       pgdata/                                    the server's data directory
//       pgdata.partial-<pid>-<rand>/               a copy being prepared (renamed when complete)
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { InstanceRef } from '../types.ts'
import { NAMESPACE_MAX_LENGTH, NAMESPACE_PATTERN, isValidInstanceName } from '../instance-names.ts'
import { PermanentProvisionerError } from '../provisioner.ts'

export interface InstanceMeta {
  namespace: string
  instance_name: string
  port: number
  /** What was asked for; the local binaries have one major version. */
  requested_version: string
  /** What actually runs, e.g. "18.4". */
  server_version: string
  created_at: string
}

export interface InstancePaths {
  readonly key: string
  readonly dir: string
  readonly meta: string
  readonly pgdata: string
}

const namespacePattern = new RegExp(NAMESPACE_PATTERN)

/** Names become path segments, so they are checked here too, not only at the API. */
export function instancePaths (dataDir: string, ref: InstanceRef): InstancePaths {
  if (!isValidInstanceName(ref.instance_name)) {
    throw new PermanentProvisionerError(`invalid instance name ${JSON.stringify(ref.instance_name)}`)
  }
  if (ref.namespace.length > NAMESPACE_MAX_LENGTH || !namespacePattern.test(ref.namespace)) {
    throw new PermanentProvisionerError(`invalid namespace ${JSON.stringify(ref.namespace)}`)
  }
  const dir = join(dataDir, 'instances', ref.namespace, ref.instance_name)
  return { key: `${ref.namespace}/${ref.instance_name}`, dir, meta: join(dir, 'instance.json'), pgdata: join(dir, 'pgdata') }
}

export async function readMeta (paths: InstancePaths): Promise<InstanceMeta | undefined> {
  try {
    return JSON.parse(await readFile(paths.meta, 'utf8')) as InstanceMeta
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Writes the metadata only if there is none yet (complete file, linked into
 * place atomically). Returns whichever metadata won.
 */
export async function claimMeta (paths: InstancePaths, meta: InstanceMeta): Promise<{ meta: InstanceMeta, won: boolean }> {
  const tmp = `${paths.meta}.${randomBytes(6).toString('hex')}`
  await writeFile(tmp, JSON.stringify(meta, null, 2), { mode: 0o644 })
  try {
    await link(tmp, paths.meta)
    return { meta, won: true }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    const existing = await readMeta(paths)
    if (!existing) throw err
    return { meta: existing, won: false }
  } finally {
    await rm(tmp, { force: true })
  }
}
