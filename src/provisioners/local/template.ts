// An initialised data directory kept once per major version and copied for
// each new instance: a copy costs a fraction of an initdb.
//
// Built under a unique name and renamed into place, so concurrent first
// creates (in this process or others) never see a half-built template, and a
// crash mid-build leaves only a `.build-*` directory to sweep, never a lock
// that has to be judged stale. Two processes racing the very first build may
// both run initdb; one rename wins and the other copy is discarded.
import { chown, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { Logger } from '../../logging.ts'
import { runBinary, type PostgresBinaries, type RunAs } from '../../postgres/binaries.ts'
import { isInitialised } from '../../postgres/cluster.ts'
import { copyDataDir, doneStaging, stagingPath, sweep } from './copies.ts'

/** The binaries of one major, run as the server's OS user. */
export interface MajorBinaries {
  readonly major: string
  readonly binaries: PostgresBinaries
  readonly runAs: RunAs | undefined
}

/**
 * The path of `<root>/pg<major>`: an initialised data directory for `c.major`
 * (initdb: scram-sha-256 over TCP, peer locally, UTF8, C.UTF-8, no password),
 * built once for every process sharing `root` (see the header). Throws initdb's
 * error (runBinary) when it fails.
 */
export async function ensureTemplate (c: MajorBinaries, root: string): Promise<string> {
  const major = c.major
  const dir = join(root, `pg${major}`)
  if (await isInitialised(dir)) return dir
  await mkdir(root, { recursive: true, mode: 0o755 })
  await sweep(root, '.build-')
  const build = stagingPath(root, '.build-')
  try {
    // No password at all: the `postgres` role cannot log in until each copy gets its own.
    await mkdir(build, { mode: 0o700 })
    if (c.runAs) await chown(build, c.runAs.uid, c.runAs.gid)
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

// A spare copy of the template, made in the background after a create, so
// the next create renames it into place instead of copying ~40 MB while the
// caller waits. Spares are complete when visible (built under `.build-*`,
// then renamed), and a create claims one by renaming it away: only one can.
const sparesOf = (root: string, major: string): string => join(root, `pg${major}-spares`)

/** Moves a spare to `to`; false when there is none. */
async function takeSpare (root: string, major: string, to: string): Promise<boolean> {
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
async function makeSpare (template: string, root: string, major: string): Promise<void> {
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

export interface TemplateSource {
  /** Puts a fresh copy of the template of `c.major` at `to` (which must not exist). */
  copyTo (c: MajorBinaries, to: string): Promise<void>
  /** Waits for background work (the spare being made). */
  close (): Promise<void>
}

/**
 * A TemplateSource under `root`: templates from ensureTemplate (asked once per
 * major and binary directory in this process, again after a failure), and a
 * spare copy refilled in the background (a failed refill is only logged).
 */
export function createTemplateSource (root: string, log: Logger): TemplateSource {
  const templates = new Map<string, Promise<string>>()
  const refills = new Map<string, Promise<void>>()

  async function template (c: MajorBinaries): Promise<string> {
    const key = `${c.major}:${c.binaries.binDir}`
    let pending = templates.get(key)
    if (!pending) {
      pending = ensureTemplate(c, root)
      templates.set(key, pending)
      pending.catch(() => templates.delete(key)) // let the next create try again
    }
    return pending
  }

  return {
    async copyTo (c, to) {
      const major = c.major
      const dir = await template(c)
      if (!(await takeSpare(root, major, to))) await copyDataDir(dir, to)
      // In the background, one at a time per major: the caller does not wait for the next create's copy.
      if (!refills.has(major)) {
        refills.set(major, makeSpare(dir, root, major)
          .catch(err => log.warn({ err }, 'could not prepare a spare copy of the template; creates will copy it'))
          .finally(() => { refills.delete(major) }))
      }
    },
    async close () {
      await Promise.all(refills.values())
    }
  }
}
