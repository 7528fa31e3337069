// One PostgreSQL cluster (data directory + server process) on this machine.
// Settings live in the cluster's own config, so a restart of the control plane
// finds the server on the same port, and `pg_ctl start` detaches it from us.
import { chown, mkdir, readFile, rm, writeFile, appendFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { runBinary, type PostgresBinaries, type RunAs } from './binaries.ts'

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

/** Pins where the server listens; TCP only, so no socket path length limits. */
export async function configureCluster (c: ClusterOptions, settings: { port: number, host: string }): Promise<void> {
  const lines = [
    `port = ${settings.port}`,
    `listen_addresses = '${settings.host}'`,
    "unix_socket_directories = ''",
    ''
  ]
  await appendFile(join(c.dataDir, 'postgresql.conf'), `\n# toygres\n${lines.join('\n')}`)
}

export async function startCluster (c: ClusterOptions): Promise<void> {
  const logFile = join(c.dataDir, 'server.log')
  try {
    await runBinary(c.binaries.pgCtl, ['start', '--wait', '--timeout', '60', '--pgdata', c.dataDir, '--log', logFile], c.runAs)
  } catch (err) {
    // pg_ctl only says "examine the log output": bring the server's own reason up.
    const log = await readFile(logFile, 'utf8').catch(() => '')
    const reason = log.split('\n').filter(l => /FATAL|could not|HINT/.test(l)).slice(-3).map(l => l.replace(/^.*?(FATAL|LOG|HINT|WARNING):\s*/, '')).join('; ')
    if (!reason) throw err
    throw new Error(`PostgreSQL in ${c.dataDir} did not start: ${reason}`, { cause: err })
  }
}

export async function stopCluster (c: ClusterOptions, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
  if (!(await isClusterRunning(c))) return
  await runBinary(c.binaries.pgCtl, ['stop', '--wait', '--timeout', '60', '--mode', mode, '--pgdata', c.dataDir], c.runAs)
}

/** True when a postmaster is alive for this data directory. */
export async function isClusterRunning (c: ClusterOptions): Promise<boolean> {
  try {
    await runBinary(c.binaries.pgCtl, ['status', '--pgdata', c.dataDir], c.runAs)
    return true
  } catch {
    return false
  }
}

export async function postmasterPid (dataDir: string): Promise<number | undefined> {
  try {
    const first = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]
    const pid = Number(first)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

export async function isInitialised (dataDir: string): Promise<boolean> {
  try {
    await readFile(join(dataDir, 'PG_VERSION'))
    return true
  } catch {
    return false
  }
}
