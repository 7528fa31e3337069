// One PostgreSQL cluster (data directory + server process) on this machine.
// Settings live in the cluster's own config, so a restart of the control plane
// finds the server on the same port, and `pg_ctl start` detaches it from us.
import { appendFile, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { runBinary, type PostgresBinaries, type RunAs } from './binaries.ts'
import { livePid, postmasterPid } from './process.ts'

export { postmasterPid } from './process.ts'

export interface ClusterOptions {
  readonly binaries: PostgresBinaries
  readonly runAs: RunAs | undefined
  readonly dataDir: string
}

async function ownedDir (dir: string, runAs: RunAs | undefined, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode })
  if (runAs) await chown(dir, runAs.uid, runAs.gid)
}

/**
 * initdb with SCRAM auth for TCP and the password given. The password goes
 * through a 0600 file that is removed before this returns.
 */
export async function initCluster (c: ClusterOptions, password: string, flags: string[] = []): Promise<void> {
  await ownedDir(c.dataDir, c.runAs, 0o700)
  // Beside the data directory: initdb insists on an empty one.
  const pwfile = join(dirname(c.dataDir), `.pw-${randomBytes(6).toString('hex')}`)
  try {
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 })
    if (c.runAs) await chown(pwfile, c.runAs.uid, c.runAs.gid)
    await runBinary(c.binaries.initdb, [
      '--pgdata', c.dataDir, '--username', 'postgres', '--pwfile', pwfile,
      '--auth-host', 'scram-sha-256', '--auth-local', 'peer', '--encoding', 'UTF8', '--locale', 'C.UTF-8', ...flags
    ], c.runAs)
  } finally {
    await rm(pwfile, { force: true })
  }
}

/** Pins where the server listens (TCP only, so no socket path length limits), plus any `extra` setting lines. */
export async function configureCluster (c: ClusterOptions, settings: { port: number, host: string }, extra: string[] = []): Promise<void> {
  const lines = [
    `port = ${settings.port}`,
    `listen_addresses = '${settings.host}'`,
    "unix_socket_directories = ''",
    ...extra,
    ''
  ]
  await appendFile(join(c.dataDir, 'postgresql.conf'), `\n# toygres\n${lines.join('\n')}`)
}

/**
 * Removes a lock file whose pid is not a server of this data directory (a
 * crash, then pid reuse): PostgreSQL judges it by kill(pid, 0) alone and
 * would refuse to start. The process it names is never signalled.
 */
export async function removeStaleLockFile (dataDir: string): Promise<boolean> {
  if (await postmasterPid(dataDir) === undefined || await livePid(dataDir) !== undefined) return false
  await rm(join(dataDir, 'postmaster.pid'), { force: true })
  return true
}

export async function startCluster (c: ClusterOptions): Promise<void> {
  const logFile = join(c.dataDir, 'server.log')
  await removeStaleLockFile(c.dataDir)
  const logSize = await stat(logFile).then(s => s.size, () => 0)
  try {
    await runBinary(c.binaries.pgCtl, ['start', '--wait', '--timeout', '60', '--pgdata', c.dataDir, '--log', logFile], c.runAs)
  } catch (err) {
    // pg_ctl only says "examine the log output": bring the server's own reason
    // up, from this attempt's lines only.
    const log = (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(logSize).toString('utf8')
    const reason = log.split('\n').filter(l => /FATAL|could not|HINT/.test(l)).slice(-4).map(l => l.replace(/^.*?(FATAL|LOG|HINT|WARNING):\s*/, '')).join('; ')
    if (!reason) throw err
    throw new Error(`PostgreSQL in ${c.dataDir} did not start: ${reason}`, { cause: err })
  }
}

export async function stopCluster (c: ClusterOptions, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
  if (!(await isClusterRunning(c))) return
  await runBinary(c.binaries.pgCtl, ['stop', '--wait', '--timeout', '60', '--mode', mode, '--pgdata', c.dataDir], c.runAs)
}

/** True when a postmaster is alive for this data directory (proven by /proc, not only by its lock file). */
export async function isClusterRunning (c: ClusterOptions): Promise<boolean> {
  return await livePid(c.dataDir) !== undefined
}

export async function isInitialised (dataDir: string): Promise<boolean> {
  try {
    await readFile(join(dataDir, 'PG_VERSION'))
    return true
  } catch {
    return false
  }
}
