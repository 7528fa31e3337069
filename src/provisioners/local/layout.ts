// Where the local provisioner keeps things under its home (the data
// directory, or where src/postgres/placement.ts put it):
//
//   templates/pg<major>/                  initialised once per major, copied per instance
//   templates/pg<major>-spares/spare-*/   a copy made ahead, taken by the next create
//   ports/<port> -> <ns>/<name>/<id>      one symlink per reserved port, naming its owner
//   postgres/<major>/native/              majors added with `npm run postgres:add -- <major>`
//   instances/<ns>/<name>/
//       instance.json                     the mark (instance and control-plane ids), port, major,
//                                         and what day-2 calls recorded (never the password)
//       root.crt                          the control plane's CA, for clients' sslrootcert
//       pgdata/                           the server's data directory (server.crt, server.key,
//                                         pg_hba.conf, server.log)
//       pgdata.partial-<pid>-<rand>/      a copy being prepared (renamed when complete)
//   instances/<ns>/.claim-<pid>-<rand>/   a new instance directory, renamed into place
//                                         with its instance.json, so none exists without the mark
//   instances/<ns>/.deleting-<name>-<id>/ an instance being removed (renamed away first)
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { OwnedRef } from '../types.ts'
import { NAMESPACE_MAX_LENGTH, NAMESPACE_PATTERN, isValidInstanceName } from '../instance-names.ts'
import { PermanentProvisionerError } from '../provisioner.ts'

export interface InstanceMeta {
  /** The mark: which instance of which control plane this directory belongs to. */
  instance_id: string
  control_plane_id: string
  namespace: string
  instance_name: string
  port: number
  /** The major whose binaries run it, e.g. "18". */
  major: string
  /** What ran when it was made, e.g. "18.4". */
  server_version: string
  created_at: string
  /** Stopped by a user (stopPostgres): health monitoring's recover leaves it stopped. */
  stopped_by_user: boolean
  /** Recorded only: a local instance has no volume. */
  storage_size_gb: number
  labels: Record<string, string>
  allowed_cidrs: string[] | null
}

export interface InstancePaths {
  /** "<namespace>/<name>", for messages and logs. */
  readonly key: string
  /** What a port reservation names: "<namespace>/<name>/<instance id>". */
  readonly owner: string
  readonly namespaceDir: string
  readonly dir: string
  readonly meta: string
  readonly rootCert: string
  readonly pgdata: string
  /** Where delete moves the directory before removing it; the id in its name proves whose it was. */
  readonly trash: string
}

const namespacePattern = new RegExp(NAMESPACE_PATTERN)
const idPattern = /^[A-Za-z0-9-]{1,64}$/

/** Names become path segments, so they are checked here too, not only at the API. */
export function instancePaths (home: string, ref: OwnedRef): InstancePaths {
  if (!isValidInstanceName(ref.instance_name)) {
    throw new PermanentProvisionerError(`invalid instance name ${JSON.stringify(ref.instance_name)}`)
  }
  if (ref.namespace.length > NAMESPACE_MAX_LENGTH || !namespacePattern.test(ref.namespace)) {
    throw new PermanentProvisionerError(`invalid namespace ${JSON.stringify(ref.namespace)}`)
  }
  if (!idPattern.test(ref.instance_id)) throw new PermanentProvisionerError(`invalid instance id ${JSON.stringify(ref.instance_id)}`)
  const namespaceDir = join(home, 'instances', ref.namespace)
  const dir = join(namespaceDir, ref.instance_name)
  return {
    key: `${ref.namespace}/${ref.instance_name}`,
    owner: `${ref.namespace}/${ref.instance_name}/${ref.instance_id}`,
    namespaceDir,
    dir,
    meta: join(dir, 'instance.json'),
    rootCert: join(dir, 'root.crt'),
    pgdata: join(dir, 'pgdata'),
    trash: join(namespaceDir, `.deleting-${ref.instance_name}-${ref.instance_id}`)
  }
}

/** The parsed instance.json; undefined when there is none; null when it is not JSON. */
export async function readMeta (paths: InstancePaths): Promise<Partial<InstanceMeta> | undefined | null> {
  let text: string
  try {
    text = await readFile(paths.meta, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const parsed = JSON.parse(text) as unknown
    return typeof parsed === 'object' && parsed !== null ? parsed as Partial<InstanceMeta> : null
  } catch {
    return null
  }
}

/** Replaces instance.json whole (written beside it, then renamed over it). */
export async function writeMeta (file: string, meta: InstanceMeta): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}`
  await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o644 })
  await rename(tmp, file)
}
