// What the kubelet's volume plugins put on disk for a pod, so the backing
// PostgreSQL reads its files exactly as it would in a container:
//
// - secret and configMap volumes are written by the AtomicWriter
//   (pkg/volume/util/atomic_writer.go): files in a `..<timestamp>` directory,
//   a `..data` symlink swapped atomically on update, and one top-level symlink
//   per entry. Payload: every key, or `items` (key → path, per-item `mode`),
//   mode `defaultMode` (0644 when unset; pkg/volume/secret/secret.go
//   MakePayload, pkg/volume/configmap/configmap.go).
// - With a pod `securityContext.fsGroup`, SetVolumeOwnership
//   (pkg/volume/volume_linux.go) chowns every file to group fsGroup and, these
//   volumes being read-only, ORs in roMask 0440 (directories also get setgid
//   and 0110). Files stay owned by root, because the kubelet (root) wrote them.
//   So defaultMode 0600 reads as 0640 root:fsGroup, and 0644 stays 0644.
// - A persistentVolumeClaim volume is a directory per claim (by uid), kept
//   across pods until the claim is deleted; fsGroup makes it group-writable
//   (rwMask 0660, setgid).
// - emptyDir is a directory per pod.
//
// The fake's stand-in: the pod's runAsUser/runAsGroup/fsGroup (e.g. 999)
// stand for the local `postgres` OS user and its group, which the backing
// server runs as (src/postgres/binaries.ts postgresRunAs).
import { randomBytes } from 'node:crypto'
import { chmod, chown, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { RunAs } from '../../../src/postgres/binaries.ts'
import type { KubeObject } from './resources.ts'
import type { Store } from './store.ts'

export interface Mount { mountPath: string, hostPath: string, readOnly: boolean }
interface FileEntry { path: string, content: Buffer, mode: number }

const DEFAULT_MODE = 0o644
const RO_MASK = 0o440

/** The payload a secret/configMap volume gets, or the kubelet's error when it cannot be made. */
function payload (pod: KubeObject, volume: any, store: Store): FileEntry[] | { error: string } | undefined {
  const ns = pod.metadata.namespace
  const src = volume.secret ?? volume.configMap
  const isSecret = volume.secret !== undefined
  const objName: string = isSecret ? src.secretName : src.name
  const obj = store.get(isSecret ? 'secrets' : 'configmaps', ns, objName)
  if (!obj) {
    if (src.optional) return []
    return { error: `MountVolume.SetUp failed for volume "${volume.name}" : ${isSecret ? 'secret' : 'configmap'} "${objName}" not found` }
  }
  const data: Record<string, Buffer> = {}
  if (isSecret) for (const [k, v] of Object.entries(obj.data ?? {})) data[k] = Buffer.from(v, 'base64')
  else {
    for (const [k, v] of Object.entries(obj.data ?? {})) data[k] = Buffer.from(v, 'utf8')
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v, 'base64')
  }
  const defaultMode: number = src.defaultMode ?? DEFAULT_MODE
  if (!src.items) return Object.entries(data).map(([k, v]) => ({ path: k, content: v, mode: defaultMode }))
  const out: FileEntry[] = []
  for (const item of src.items as Array<{ key: string, path: string, mode?: number }>) {
    const v = data[item.key]
    if (v === undefined) {
      if (src.optional) continue
      return { error: `MountVolume.SetUp failed for volume "${volume.name}" : ${isSecret ? 'references non-existent secret key' : 'configmap references non-existent config key'}: ${item.key}` }
    }
    out.push({ path: item.path, content: v, mode: item.mode ?? defaultMode })
  }
  return out
}

export class Volumes {
  readonly base: string
  readonly #runAs: RunAs | undefined
  readonly #store: Store
  /** Claims whose directory is in use by a running container: deleted only when the last one stops. */
  readonly #users = new Map<string, number>()
  readonly #doomed = new Set<string>()

  constructor (base: string, runAs: RunAs | undefined, store: Store) {
    this.base = base
    this.#runAs = runAs
    this.#store = store
  }

  podDir (podUid: string): string { return join(this.base, 'pods', podUid) }
  claimDir (claimUid: string): string { return join(this.base, 'claims', claimUid) }

  /** The first reason the pod's volumes cannot be set up now (FailedMount), if any. */
  check (pod: KubeObject): string | undefined {
    for (const v of pod.spec?.volumes ?? []) {
      if (v.secret === undefined && v.configMap === undefined) continue
      const p = payload(pod, v, this.#store)
      if (p && 'error' in p) return p.error
    }
    return undefined
  }

  /** fsGroup as a local gid: the pod's groups all stand for the postgres OS group. */
  #fsGid (pod: KubeObject): number | undefined {
    if (pod.spec?.securityContext?.fsGroup === undefined) return undefined
    return this.#runAs?.gid
  }

  /** Sets up every volume the pod's first container mounts; returns mountPath → directory. */
  async mount (pod: KubeObject): Promise<Mount[]> {
    const podDir = this.podDir(pod.metadata.uid!)
    await mkdir(join(podDir, 'volumes'), { recursive: true, mode: 0o755 })
    await chmod(podDir, 0o755)
    const gid = this.#fsGid(pod)
    const hostPaths = new Map<string, string>()
    for (const v of pod.spec?.volumes ?? []) {
      const dir = join(podDir, 'volumes', v.name)
      if (v.secret !== undefined || v.configMap !== undefined) {
        await this.#writeAtomic(dir, payload(pod, v, this.#store), gid)
        hostPaths.set(v.name, dir)
      } else if (v.persistentVolumeClaim !== undefined) {
        const claim = this.#store.get('persistentvolumeclaims', pod.metadata.namespace, v.persistentVolumeClaim.claimName)
        if (!claim) continue
        const cdir = this.claimDir(claim.metadata.uid!)
        await mkdir(cdir, { recursive: true })
        if (gid !== undefined) { await chown(cdir, 0, gid); await chmod(cdir, 0o2775) } else await chmod(cdir, 0o777)
        hostPaths.set(v.name, cdir)
      } else if (v.emptyDir !== undefined) {
        await mkdir(dir, { recursive: true })
        await chmod(dir, 0o777) // pkg/volume/emptydir: perm 0777
        hostPaths.set(v.name, dir)
      }
    }
    const c = pod.spec?.containers?.[0]
    return (c?.volumeMounts ?? []).filter((m: any) => hostPaths.has(m.name)).map((m: any) => ({
      mountPath: String(m.mountPath).replace(/\/+$/, ''),
      hostPath: m.subPath ? join(hostPaths.get(m.name)!, m.subPath) : hostPaths.get(m.name)!,
      readOnly: !!m.readOnly
    }))
  }

  /** The kubelet's periodic sync: rewrites secret/configMap volumes whose source changed. Returns whether any did. */
  async resync (pod: KubeObject): Promise<boolean> {
    let changed = false
    const gid = this.#fsGid(pod)
    for (const v of pod.spec?.volumes ?? []) {
      if (v.secret === undefined && v.configMap === undefined) continue
      const p = payload(pod, v, this.#store)
      if (!p || 'error' in p) continue // the kubelet keeps the last good content
      if (await this.#writeAtomic(join(this.podDir(pod.metadata.uid!), 'volumes', v.name), p, gid)) changed = true
    }
    return changed
  }

  /** AtomicWriter.Write: a no-op when the content is the same. */
  async #writeAtomic (dir: string, files: FileEntry[] | { error: string } | undefined, gid: number | undefined): Promise<boolean> {
    if (!files || 'error' in files) return false
    await mkdir(dir, { recursive: true, mode: 0o755 })
    const dataLink = join(dir, '..data')
    const oldTs = await readlink(dataLink).catch(() => undefined)
    if (oldTs && await this.#sameContent(join(dir, oldTs), files, gid)) return false
    const stamp = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace(/\..*$/, '')
    const ts = `..${stamp}.${randomBytes(5).toString('hex')}`
    const tsDir = join(dir, ts)
    await mkdir(tsDir, { mode: 0o755 })
    await chmod(tsDir, 0o755)
    for (const f of files) {
      const target = join(tsDir, f.path)
      await mkdir(dirname(target), { recursive: true, mode: 0o755 })
      await writeFile(target, f.content)
      let mode = f.mode
      if (gid !== undefined) {
        await chown(target, 0, gid).catch(() => {})
        mode |= RO_MASK
      }
      await chmod(target, mode)
    }
    if (gid !== undefined) { await chown(tsDir, 0, gid).catch(() => {}); await chmod(tsDir, 0o2755) }
    const tmpLink = join(dir, '..data_tmp')
    await rm(tmpLink, { force: true })
    await symlink(ts, tmpLink)
    await rename(tmpLink, dataLink)
    const top = new Set(files.map(f => f.path.split('/')[0]!))
    for (const name of top) {
      const link = join(dir, name)
      if (!(await lstat(link).catch(() => undefined))) await symlink(join('..data', name), link)
    }
    for (const name of await readdir(dir)) {
      if (name.startsWith('..') || top.has(name)) continue
      await rm(join(dir, name), { force: true, recursive: true })
    }
    if (oldTs) await rm(join(dir, oldTs), { recursive: true, force: true })
    return true
  }

  async #sameContent (tsDir: string, files: FileEntry[], gid: number | undefined): Promise<boolean> {
    const present = await readdir(tsDir, { recursive: true }).catch(() => [] as string[])
    const regular: string[] = []
    for (const p of present) if ((await lstat(join(tsDir, p))).isFile()) regular.push(p)
    if (regular.length !== files.length) return false
    for (const f of files) {
      const st = await lstat(join(tsDir, f.path)).catch(() => undefined)
      if (!st) return false
      const want = gid !== undefined ? f.mode | RO_MASK : f.mode
      if ((st.mode & 0o7777) !== want) return false
      if (!(await readFile(join(tsDir, f.path))).equals(f.content)) return false
    }
    return true
  }

  use (claimUid: string): void { this.#users.set(claimUid, (this.#users.get(claimUid) ?? 0) + 1) }

  async release (claimUid: string): Promise<void> {
    const n = (this.#users.get(claimUid) ?? 1) - 1
    if (n > 0) { this.#users.set(claimUid, n); return }
    this.#users.delete(claimUid)
    if (this.#doomed.delete(claimUid)) await rm(this.claimDir(claimUid), { recursive: true, force: true })
  }

  /** The claim is gone (reclaimPolicy Delete): its data goes once no container uses it. */
  async deleteClaim (claimUid: string): Promise<void> {
    if (this.#users.has(claimUid)) { this.#doomed.add(claimUid); return }
    await rm(this.claimDir(claimUid), { recursive: true, force: true })
  }

  async removePod (podUid: string): Promise<void> {
    await rm(this.podDir(podUid), { recursive: true, force: true })
  }
}
