// An initialised data directory kept once per major version and copied for
// each new instance: a copy costs a fraction of an initdb.
//
// Built under a unique name and renamed into place, so concurrent first
// creates (in this process or others) never see a half-built template, and a
// crash mid-build leaves only a `.build-*` directory to sweep, never a lock
// that has to be judged stale. Two processes racing the very first build may
// both run initdb; one rename wins and the other copy is discarded.
import { execFile } from 'node:child_process'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { runBinary } from '../../postgres/binaries.ts'
import { isInitialised, type ClusterOptions } from '../../postgres/cluster.ts'
import { isAlive } from './server.ts'

const run = promisify(execFile)

export async function ensureTemplate (c: ClusterOptions, root: string, major: string): Promise<string> {
  const dir = join(root, `pg${major}`)
  if (await isInitialised(dir)) return dir
  await mkdir(root, { recursive: true, mode: 0o755 })
  await sweep(root, '.build-')
  const build = stagingPath(root, '.build-')
  try {
    // No password at all: the `postgres` role cannot log in until each copy gets its own.
    await mkdir(build, { mode: 0o700 })
    if (c.runAs) await run('chown', [`${c.runAs.uid}:${c.runAs.gid}`, build])
    await runBinary(c.binaries.initdb, [
      '--pgdata', build, '--username', 'postgres', '--auth-host', 'scram-sha-256', '--auth-local', 'peer',
      '--encoding', 'UTF8', '--locale', 'C.UTF-8', '--no-sync'
    ], c.runAs)
    await rename(build, dir)
  } catch (err) {
    await rm(build, { recursive: true, force: true })
    if (await isInitialised(dir)) return dir // another creator won the rename
    throw err
  } finally {
    doneStaging(build)
  }
  return dir
}

/** `cp -a`: keeps owner and modes (we are root, or the server runs as us). */
export async function copyDataDir (from: string, to: string): Promise<void> {
  await run('cp', ['-a', '--', from, to])
}

// Staging directories are named <prefix><pid>-<random>; those of live
// processes, and our own that are still in use, are left alone by sweep().
const inFlight = new Set<string>()

export function stagingPath (parent: string, prefix: string): string {
  const path = join(parent, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`)
  inFlight.add(path)
  return path
}

export function doneStaging (path: string): void {
  inFlight.delete(path)
}

/** Removes staging leftovers of crashed attempts. */
export async function sweep (dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[])
  for (const name of names) {
    const path = join(dir, name)
    if (!name.startsWith(prefix) || inFlight.has(path)) continue
    const pid = Number(name.slice(prefix.length).split('-')[0])
    if (pid !== process.pid && Number.isInteger(pid) && isAlive(pid)) continue
    await rm(path, { recursive: true, force: true })
  }
}

// A spare copy of the template, made in the background after a create, so
// the next create renames it into place instead of copying ~40 MB while the
// caller waits. Spares are complete when visible (built under `.build-*`,
// then renamed), and a create claims one by renaming it away: only one can.
const sparesOf = (root: string, major: string): string => join(root, `pg${major}-spares`)

/** Moves a spare to `to`; false when there is none. */
export async function takeSpare (root: string, major: string, to: string): Promise<boolean> {
  const dir = sparesOf(root, major)
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('spare-')) continue
    try {
      await rename(join(dir, name), to)
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err // ENOENT: another create took it
    }
  }
  return false
}

/** Makes one spare unless there is one already. */
export async function makeSpare (template: string, root: string, major: string): Promise<void> {
  const dir = sparesOf(root, major)
  await mkdir(dir, { recursive: true, mode: 0o755 })
  await sweep(dir, '.build-')
  if ((await readdir(dir)).some(name => name.startsWith('spare-'))) return
  const build = stagingPath(dir, '.build-')
  try {
    await copyDataDir(template, build)
    await rename(build, join(dir, `spare-${randomBytes(4).toString('hex')}`))
  } catch (err) {
    await rm(build, { recursive: true, force: true })
    throw err
  } finally {
    doneStaging(build)
  }
}
