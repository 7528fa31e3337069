// Which OS user PostgreSQL servers run as, and whether that user can reach a
// path. PostgreSQL refuses to run as root; a root control plane runs its
// servers as the `postgres` OS user, who cannot enter a private directory
// such as root's home (mode 0700).
import { execFileSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

export interface RunAs {
  readonly uid: number
  readonly gid: number
}

let postgresUser: { value: RunAs | undefined } | undefined

/**
 * Undefined when we are not root (servers run as us); otherwise the
 * `postgres` OS user (which every Debian PostgreSQL package creates).
 */
export function postgresRunAs (): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined
  if (postgresUser) return postgresUser.value
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    postgresUser = { value: { uid, gid } }
    return postgresUser.value
  } catch (cause) {
    throw new Error('running as root, and there is no "postgres" OS user to run PostgreSQL as: create one (useradd --system postgres) or run Toygres as a non-root user', { cause })
  }
}

/**
 * The first directory above `path` that `runAs` cannot enter, or undefined
 * when it can reach `path`. Judged by the mode bits without supplementary
 * groups, so it errs on the safe side. Directories not made yet are skipped:
 * whoever makes them makes them enterable.
 */
export function unreachableAncestor (path: string, runAs: RunAs | undefined): string | undefined {
  if (runAs === undefined) return undefined
  let current = resolve(path)
  for (;;) {
    const parent = dirname(current)
    if (parent === current) return undefined
    current = parent
    let st
    try {
      st = statSync(current)
    } catch {
      continue
    }
    const canEnter = st.uid === runAs.uid ? st.mode & 0o100 : st.gid === runAs.gid ? st.mode & 0o010 : st.mode & 0o001
    if (!canEnter) return current
  }
}

/** Fails early, with `advice`, when the server's OS user cannot reach `path`. */
export function assertReachable (path: string, runAs: RunAs | undefined, advice: string): void {
  const blocked = unreachableAncestor(path, runAs)
  if (blocked !== undefined) {
    throw new Error(`PostgreSQL runs as the postgres OS user (uid ${runAs!.uid}), which cannot enter ${blocked}: ${advice}`)
  }
}
