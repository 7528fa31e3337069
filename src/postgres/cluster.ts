// One PostgreSQL cluster (data directory + server process) on this machine.
// Settings live in the cluster's own config, so a restart of the control plane
// finds the server on the same port, and `pg_ctl start` detaches it from us.
import { appendFile, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { setTimeout } from 'node:timers/promises'
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

/**
 * Starts the server in its own session (it outlives us) and resolves once it
 * accepts connections. pg_ctl's own wait checks every 100 ms; polling the
 * lock file's status line ourselves, as pg_ctl does, answers sooner. A
 * server that gives up is reported at once, with its log's reason.
 */
export async function startCluster (c: ClusterOptions, opts: { signal?: AbortSignal, timeoutMs?: number } = {}): Promise<void> {
  const logFile = join(c.dataDir, 'server.log')
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
  await removeStaleLockFile(c.dataDir)
  const logSize = await stat(logFile).then(s => s.size, () => 0)
  const failure = async (): Promise<string | undefined> => {
    // This attempt's lines only; FATALs that our readiness probes cause do not count.
    const log = (await readFile(logFile).catch(() => Buffer.alloc(0))).subarray(logSize).toString('utf8')
    if (!/\b(FATAL|PANIC):(?! +the database system is (starting up|shutting down))/.test(log)) return undefined
    return log.split('\n').filter(l => /FATAL|PANIC|could not|HINT|invalid|unrecognized/.test(l)).slice(-4).map(l => l.replace(/^.*?(FATAL|PANIC|LOG|HINT|WARNING):\s*/, '')).join('; ')
  }
  await runBinary(c.binaries.pgCtl, ['start', '--no-wait', '--pgdata', c.dataDir, '--log', logFile], c.runAs)
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    if (await acceptsConnections(c.dataDir)) return
    opts.signal?.throwIfAborted()
    if (await livePid(c.dataDir) === undefined) {
      const reason = await failure()
      if (reason !== undefined) throw new Error(`PostgreSQL in ${c.dataDir} did not start: ${reason}`)
    }
    if (Date.now() > deadline) throw new Error(`PostgreSQL in ${c.dataDir} did not start within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s: ${await failure() ?? 'see its server.log'}`)
    await setTimeout(delay, undefined, opts.signal ? { signal: opts.signal } : {})
  }
}

/** The lock file's status line (postmaster.pid line 8, as pg_ctl reads it) says "ready", and its pid is our live postmaster. */
async function acceptsConnections (dataDir: string): Promise<boolean> {
  const lines = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').then(text => text.split('\n'), () => [] as string[])
  return lines[7]?.trim() === 'ready' && await livePid(dataDir) !== undefined
}

/**
 * Stops the server with `pg_ctl stop --mode <mode>`
 * (https://www.postgresql.org/docs/current/app-pg-ctl.html; fast: disconnect
 * clients, then a shutdown checkpoint), waiting up to 60 s; does nothing when
 * no server of this data directory runs. Throws runBinary's Error when pg_ctl
 * fails or gives up.
 */
export async function stopCluster (c: ClusterOptions, mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
  if (!(await isClusterRunning(c))) return
  await runBinary(c.binaries.pgCtl, ['stop', '--wait', '--timeout', '60', '--mode', mode, '--pgdata', c.dataDir], c.runAs)
}

/** True when a postmaster is alive for this data directory (proven by /proc, not only by its lock file). */
export async function isClusterRunning (c: ClusterOptions): Promise<boolean> {
  return await livePid(c.dataDir) !== undefined
}

/**
 * True when `dataDir` has a readable PG_VERSION, the file initdb writes
 * (https://www.postgresql.org/docs/current/storage-file-layout.html). The local
 * provisioner builds its data directories under another name and renames them
 * into place, so there it also means complete.
 */
export async function isInitialised (dataDir: string): Promise<boolean> {
  try {
    await readFile(join(dataDir, 'PG_VERSION'))
    return true
  } catch {
    return false
  }
}
