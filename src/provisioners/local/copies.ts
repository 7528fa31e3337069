// Directories prepared under a temporary name and renamed into place when
// complete, so a crash leaves a leftover to sweep, never a half-made result.
import { execFile } from 'node:child_process'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { isAlive } from './server.ts'

const run = promisify(execFile)

/** `cp -a`: keeps owner and modes (we are root, or the server runs as us). */
export async function copyDataDir (from: string, to: string): Promise<void> {
  await run('cp', ['-a', '--', from, to])
}

// Staging directories are named <prefix><pid>-<random>; those of live
// processes, and our own that are still in use, are left alone by sweep().
const inFlight = new Set<string>()

/**
 * A fresh path `<parent>/<prefix><pid>-<random hex>` for a directory being
 * prepared, which sweep() leaves alone until doneStaging(path); creates
 * nothing.
 */
export function stagingPath (parent: string, prefix: string): string {
  const path = join(parent, `${prefix}${process.pid}-${randomBytes(4).toString('hex')}`)
  inFlight.add(path)
  return path
}

/** Says `path` was renamed into place or removed: from now on sweep() may remove whatever is left there. */
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
