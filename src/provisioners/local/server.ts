// Process control for one instance's server, on top of src/postgres/cluster.ts.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { runBinary, type PostgresBinaries } from '../../postgres/binaries.ts'
import { postmasterPid, startCluster, type ClusterOptions } from '../../postgres/cluster.ts'

/** "18.4" from `postgres --version`. */
export async function serverVersion (binaries: PostgresBinaries): Promise<string> {
  const out = await runBinary(binaries.postgres, ['--version'], undefined)
  const match = /\(PostgreSQL\) (\d+(?:\.\d+)?)/.exec(out)
  if (!match?.[1]) throw new Error(`unexpected output from postgres --version: ${out.trim()}`)
  return match[1]
}

/** True while `pid` runs. A zombie (killed, not yet reaped by init) counts as gone. */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no procfs: kill(0) is all we can know
  }
}

/** The postmaster's pid when one is alive for `dataDir`. */
export async function livePid (dataDir: string): Promise<number | undefined> {
  const pid = await postmasterPid(dataDir)
  return pid !== undefined && isAlive(pid) ? pid : undefined
}

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
const TRANSIENT_START_FAILURE = /pre-existing shared memory block|lock file .* already exists|Address already in use/

/** `pg_ctl start --wait`, retried while a killed predecessor's children die out. */
export async function startServer (c: ClusterOptions, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  // A killed postmaster's lock file: PostgreSQL would judge it by kill(pid, 0),
  // which a zombie passes. Shared memory still in use is checked separately.
  if (await postmasterPid(c.dataDir) !== undefined && await livePid(c.dataDir) === undefined) {
    await rm(join(c.dataDir, 'postmaster.pid'), { force: true })
  }
  for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
    try {
      await startCluster(c)
      return
    } catch (err) {
      if (await livePid(c.dataDir) !== undefined) return // a concurrent start won
      // startCluster's error already carries the server log's reason.
      if (!TRANSIENT_START_FAILURE.test((err as Error).message) || Date.now() + delay > deadline) throw err
      await sleep(delay) // backoff between attempts, bounded by the deadline
    }
  }
}

async function pgCtlStop (c: ClusterOptions, mode: 'fast' | 'immediate', timeoutSeconds: number): Promise<boolean> {
  try {
    await runBinary(c.binaries.pgCtl, ['stop', '--wait', '--timeout', String(timeoutSeconds), '--mode', mode, '--pgdata', c.dataDir], c.runAs)
    return true
  } catch {
    return false
  }
}

/** Stops the server: fast shutdown, then immediate, then SIGKILL; waits until the postmaster is gone. */
export async function stopServer (c: ClusterOptions): Promise<boolean> {
  const pid = await livePid(c.dataDir)
  if (pid === undefined) return false
  if (!(await pgCtlStop(c, 'fast', 15)) && !(await pgCtlStop(c, 'immediate', 10))) {
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
  const deadline = Date.now() + 10_000
  for (let delay = 10; isAlive(pid); delay = Math.min(delay * 2, 200)) {
    if (Date.now() > deadline) throw new Error(`postmaster ${pid} of ${c.dataDir} did not exit`)
    await sleep(delay)
  }
  return true
}
