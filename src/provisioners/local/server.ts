// Process control for one instance's server, on top of src/postgres/. Every
// signal goes to a pid proven (/proc) to be the postmaster of this data
// directory, never to whatever postmaster.pid names: after a crash that pid
// may belong to any process. So pg_ctl, which signals the file's pid after
// checking only that it is alive, is used to start servers, never to stop
// or reload them.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { startCluster, type ClusterOptions } from '../../postgres/cluster.ts'
import { isAlive, livePid, servesDataDir } from '../../postgres/process.ts'

export { isAlive, livePid } from '../../postgres/process.ts'

/** A verifier is not the password, but it allows an offline guessing attack: keep it out of errors and logs. */
export const redactVerifiers = (text: string): string => text.replace(/SCRAM-SHA-256\$[^'\s]*/g, 'SCRAM-SHA-256$***')

/**
 * Runs one SQL statement in single-user mode (no server, no network), e.g. to
 * set the password on a stopped copy before it ever listens.
 * The statement is echoed on failure, so it must not hold a password.
 */
export function runSingleUser (c: ClusterOptions, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(c.binaries.postgres, ['--single', '-D', c.dataDir, '-c', 'log_min_messages=error', 'postgres'], {
      ...(c.runAs ?? {}),
      env: { LC_ALL: 'C.UTF-8' },
      stdio: ['pipe', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    child.on('error', reject)
    child.on('close', code => {
      // Single-user mode exits 0 even when the statement failed: read stderr.
      if (code === 0 && !/\b(ERROR|FATAL|PANIC):/.test(stderr)) resolve()
      else reject(new Error(`postgres --single failed (exit ${code}): ${redactVerifiers(stderr).trim().split('\n').slice(0, 3).join(' ')}`))
    })
    child.stdin.end(`${sql}\n`)
  })
}

// Left behind for a moment by a killed postmaster's children, which exit on
// their own; or our port briefly taken as the local end of someone's outgoing
// connection (ranges inside the kernel's ephemeral range, 32768-60999 on
// Linux, invite that). A real squatter makes the start fail at the deadline.
const TRANSIENT_START_FAILURE = /pre-existing shared memory block|lock file .* already exists|Address already in use|could not create listen socket/

/** startCluster, retried while a killed predecessor's children die out. */
export async function startServer (c: ClusterOptions, signal?: AbortSignal, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    signal?.throwIfAborted()
    try {
      // Removes a lock file left by a dead server first; resolves once the server accepts connections.
      await startCluster(c, { ...(signal ? { signal } : {}), timeoutMs: Math.max(1000, deadline - Date.now()) })
      return
    } catch (err) {
      if (await livePid(c.dataDir) !== undefined) return // a concurrent start won
      // startCluster's error already carries the server log's reason.
      if (!TRANSIENT_START_FAILURE.test((err as Error).message) || Date.now() + delay > deadline) throw err
      await sleep(delay, undefined, signal ? { signal } : {}) // backoff between attempts, bounded by the deadline
    }
  }
}

/** Sends `sig` to `pid` only while it is still the postmaster of `dataDir`. */
function signalOurs (pid: number, dataDir: string, sig: NodeJS.Signals): boolean {
  if (!servesDataDir(pid, dataDir)) return false
  try {
    process.kill(pid, sig)
    return true
  } catch {
    return false // exited meanwhile
  }
}

async function exited (pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (let delay = 5; isAlive(pid); delay = Math.min(delay * 2, 100)) {
    if (Date.now() > deadline) return false
    await sleep(delay)
  }
  return true
}

// postgres(1): SIGINT is a fast shutdown (clients disconnected, a clean
// checkpoint), SIGQUIT an immediate one (recovery at the next start).
/**
 * Stops the server: fast shutdown, then immediate, then SIGKILL; resolves
 * once the postmaster is gone. False when no server of this data directory
 * was running (a stale postmaster.pid is left alone, and so is its pid).
 */
export async function stopServer (dataDir: string, fastMs = 15_000): Promise<boolean> {
  const pid = await livePid(dataDir)
  if (pid === undefined) return false
  for (const [sig, ms] of [['SIGINT', fastMs], ['SIGQUIT', 10_000], ['SIGKILL', 10_000]] as const) {
    if (!signalOurs(pid, dataDir, sig) || await exited(pid, ms)) return true
  }
  throw new Error(`postmaster ${pid} of ${dataDir} did not exit after SIGKILL`)
}

/** SIGHUP: the server re-reads postgresql.conf and pg_hba.conf. False when none is running. */
export async function reloadServer (dataDir: string): Promise<boolean> {
  const pid = await livePid(dataDir)
  return pid !== undefined && signalOurs(pid, dataDir, 'SIGHUP')
}
