// Is a process alive, and is it the PostgreSQL server of a given data
// directory? A postmaster.pid outlives a crash, and its pid may since belong
// to any other process (pid reuse) or to another server: such a process must
// never be signalled on the strength of the file alone.
import { readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'

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

/**
 * True when `pid` is a `postgres` program working in `dataDir`. proc(5):
 * /proc/<pid>/cmdline holds the program's arguments (the postmaster keeps
 * pg_ctl's `postgres -D <dir>`; its children rewrite theirs), and
 * /proc/<pid>/cwd links to its working directory, which a postmaster sets to
 * its data directory at start. When cwd may not be read (another user's
 * process without CAP_SYS_PTRACE), the -D argument must name the directory.
 */
export function servesDataDir (pid: number, dataDir: string): boolean {
  let args: string[]
  let wanted: string
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    wanted = realpathSync(dataDir)
  } catch {
    return false
  }
  if (basename(args[0] ?? '') !== 'postgres') return false
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === wanted
  } catch {
    const d = args.indexOf('-D')
    if (d < 0 || args[d + 1] === undefined) return false
    try { return realpathSync(args[d + 1]!) === wanted } catch { return false }
  }
}

/** The pid in `<dataDir>/postmaster.pid`, whoever it belongs to now. */
export async function postmasterPid (dataDir: string): Promise<number | undefined> {
  try {
    const first = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]
    const pid = Number(first)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The postmaster's pid when a server is running on `dataDir`: named by its lock file, alive, and proven to serve it. */
export async function livePid (dataDir: string): Promise<number | undefined> {
  const pid = await postmasterPid(dataDir)
  return pid !== undefined && isAlive(pid) && servesDataDir(pid, dataDir) ? pid : undefined
}
