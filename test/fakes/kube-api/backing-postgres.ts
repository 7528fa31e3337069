// A real PostgreSQL server standing in for a pod's container, run the way the
// official image's docker-entrypoint.sh runs it: initdb on an empty PGDATA
// (POSTGRES_PASSWORD, POSTGRES_INITDB_ARGS, then `host all all all
// scram-sha-256` appended to pg_hba.conf), then `postgres "$@"` with the
// container's args as the container's main process (stdout/stderr are the
// container log), stopped with the image's STOPSIGNAL SIGINT.
//
// The fake's stand-ins: paths under a volume's mountPath are rewritten to the
// materialised directory (and rewritten back in the log, so a FATAL line names
// the path the manifest used); listen_addresses is the pod IP and
// unix_socket_directories is empty, whatever the args say.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFile, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import { findBinaries, runBinary, type RunAs } from '../../../src/postgres/binaries.ts'
import { LogWriter } from './container-log.ts'
import type { Mount } from './volumes.ts'

export interface BackingPostgres {
  readonly hosts: string[]
  /** The pod's own directory (volumes, logs); removed when the pod is gone. */
  readonly dataDir: string
  /** Where PGDATA really is (inside the claim's directory when PGDATA is on a PVC). */
  readonly pgdata: string
  readonly pid: number | undefined
  stop (): Promise<void>
}

export interface ContainerExit { exitCode: number, signal: NodeJS.Signals | null }

export interface RunningContainer {
  readonly pid: number | undefined
  readonly port: number
  readonly pgdata: string
  /** True once the server accepts TCP connections on the pod IP; false when it exited first. */
  readonly ready: Promise<boolean>
  readonly exited: Promise<ContainerExit>
  kill (signal: NodeJS.Signals): void
  stop (graceMs: number): Promise<ContainerExit>
}

export interface PostgresContainerSpec {
  podIP: string
  /** The container's command/args and resolved env, as the pod spec gives them. */
  command: string[] | undefined
  args: string[] | undefined
  env: Record<string, string>
  mounts: Mount[]
  /** For PGDATA outside every volume: the container's own writable layer. */
  scratchDir: string
  log: LogWriter
  runAs: RunAs | undefined
}

const DEFAULT_PGDATA = '/var/lib/postgresql/data'

export function toHost (path: string, mounts: Mount[]): string | undefined {
  for (const m of [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length)) {
    if (path === m.mountPath) return m.hostPath
    if (path.startsWith(`${m.mountPath}/`)) return join(m.hostPath, path.slice(m.mountPath.length + 1))
  }
  return undefined
}

export function toContainer (line: string, mounts: Mount[]): string {
  let out = line
  for (const m of [...mounts].sort((a, b) => b.hostPath.length - a.hostPath.length)) out = out.split(m.hostPath).join(m.mountPath)
  return out
}

/** docker-entrypoint.sh: args starting with '-' are the server's; `postgres ...` too. Anything else is not PostgreSQL. */
export function serverArgs (command: string[] | undefined, args: string[] | undefined): string[] | undefined {
  let argv = [...(command ?? []), ...(args ?? [])]
  if (command && command.length > 0) {
    const exe = command[0]!.split('/').pop()
    if (exe !== 'docker-entrypoint.sh' && exe !== 'postgres') return undefined
    if (exe === 'docker-entrypoint.sh') argv = argv.slice(1)
  }
  if (argv.length === 0) return []
  if (argv[0] === 'postgres') return argv.slice(1)
  if (argv[0]!.startsWith('-')) return argv
  return undefined
}

/** The -c/--name=value settings' values rewritten to host paths; the port they set. */
function rewriteArgs (argv: string[], mounts: Mount[]): { argv: string[], port: number } {
  const out: string[] = []
  let port = 5432
  const setting = (kv: string): string => {
    const eq = kv.indexOf('=')
    if (eq < 0) return kv
    const name = kv.slice(0, eq)
    const value = kv.slice(eq + 1)
    if (name.replace(/-/g, '_') === 'port') port = Number(value)
    return `${name}=${toHost(value, mounts) ?? value}`
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '-c' && i + 1 < argv.length) { out.push(a, setting(argv[++i]!)); continue }
    if (a.startsWith('--') && a.includes('=')) { out.push(`--${setting(a.slice(2))}`); continue }
    if (a === '-p' && i + 1 < argv.length) { port = Number(argv[i + 1]); out.push(a, argv[++i]!); continue }
    if (a === '-D' && i + 1 < argv.length) { out.push(a, toHost(argv[i + 1]!, mounts) ?? argv[i + 1]!); i++; continue }
    out.push(toHost(a, mounts) ?? a)
  }
  return { argv: out, port }
}

function exitedNow (exitCode: number, port: number, pgdata: string): RunningContainer {
  const exit = Promise.resolve({ exitCode, signal: null })
  return { pid: undefined, port, pgdata, ready: Promise.resolve(false), exited: exit, kill () {}, stop: () => exit }
}

/**
 * The readiness probe, as `pg_isready` judges (PQping): a startup packet, and
 * the first answer. An authentication request, or any error but 57P03
 * cannot_connect_now ("the database system is starting up"), means the server
 * accepts connections. Hanging up during authentication leaves no log line
 * (auth.c returns STATUS_EOF silently), as with pg_isready.
 */
function accepts (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = connect({ host, port })
    let buf = Buffer.alloc(0)
    const done = (ok: boolean): void => { s.removeAllListeners('data'); s.end(); s.destroy(); resolve(ok) }
    s.setTimeout(2000, () => done(false))
    s.once('error', () => resolve(false))
    s.once('connect', () => {
      const params = Buffer.from('user\0postgres\0database\0postgres\0\0')
      const head = Buffer.alloc(8)
      head.writeInt32BE(8 + params.length, 0)
      head.writeInt32BE(196608, 4)
      s.write(Buffer.concat([head, params]))
    })
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      if (buf.length < 5) return
      const type = String.fromCharCode(buf[0]!)
      if (type !== 'E') return done(true)
      const len = buf.readInt32BE(1)
      if (buf.length < 1 + len) return
      const fields = buf.subarray(5, 1 + len).toString('utf8').split('\0')
      const code = fields.find(f => f.startsWith('C'))?.slice(1)
      done(code !== '57P03')
    })
  })
}

/** docker_init_database_dir + docker_setup_db + pg_setup_hba_conf, output to the container log. */
async function initialise (pgdata: string, env: Record<string, string>, spec: PostgresContainerSpec): Promise<boolean> {
  const password = env.POSTGRES_PASSWORD
  const authMethod = env.POSTGRES_HOST_AUTH_METHOD ?? 'scram-sha-256'
  if (!password && authMethod !== 'trust') {
    spec.log.write('stderr', [
      'Error: Database is uninitialized and superuser password is not specified.',
      '       You must specify POSTGRES_PASSWORD to a non-empty value for the',
      '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".', ''
    ].join('\n'))
    return false
  }
  // The entrypoint runs as the postgres user (`mkdir -p "$PGDATA"`), so every directory it makes
  // on the way (18/ of PGDATA=/var/lib/postgresql/18/docker) is the postgres user's, not root's.
  const first = await mkdir(pgdata, { recursive: true, mode: 0o700 })
  if (spec.runAs) {
    for (let dir = pgdata; ; dir = dirname(dir)) {
      await chown(dir, spec.runAs.uid, spec.runAs.gid)
      if (!first || dir === first || dir === dirname(dir)) break
    }
  }
  const pwfile = join(dirname(pgdata), `.pw-${randomBytes(6).toString('hex')}`)
  try {
    await writeFile(pwfile, `${password ?? ''}\n`, { mode: 0o600 })
    if (spec.runAs) await chown(pwfile, spec.runAs.uid, spec.runAs.gid)
    const extra = (env.POSTGRES_INITDB_ARGS ?? '').split(/\s+/).filter(Boolean)
    const out = await runBinary(findBinaries().initdb, [
      '--pgdata', pgdata, '--username', env.POSTGRES_USER ?? 'postgres', '--pwfile', pwfile, '--no-sync',
      '--auth-host', authMethod, '--auth-local', 'trust', '--encoding', 'UTF8', '--locale', 'C.UTF-8', ...extra
    ], spec.runAs).catch((err: Error) => { spec.log.write('stderr', `${err.message}\n`); return undefined })
    if (out === undefined) return false
    spec.log.write('stdout', out)
  } finally {
    await rm(pwfile, { force: true })
  }
  await appendFile(join(pgdata, 'pg_hba.conf'), `\nhost all all all ${authMethod}\n`)
  spec.log.write('stdout', '\nPostgreSQL init process complete; ready for start up.\n\n')
  return true
}

export async function startPostgresContainer (spec: PostgresContainerSpec): Promise<RunningContainer> {
  const args = serverArgs(spec.command, spec.args)
  const pgdataPath = spec.env.PGDATA ?? DEFAULT_PGDATA
  const pgdata = toHost(pgdataPath, spec.mounts) ?? join(spec.scratchDir, pgdataPath)
  if (args === undefined) {
    spec.log.write('stderr', `fake kube-api: this container runs ${JSON.stringify([...(spec.command ?? []), ...(spec.args ?? [])])}; only the postgres server can run here\n`)
    return exitedNow(127, 5432, pgdata)
  }
  const { argv, port } = rewriteArgs(args, spec.mounts)
  const initialised = await readFile(join(pgdata, 'PG_VERSION')).then(() => true, () => false)
  if (initialised) spec.log.write('stdout', '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n')
  else if (!(await initialise(pgdata, spec.env, spec))) return exitedNow(1, port, pgdata)

  const final = [...argv, '-c', `listen_addresses=${spec.podIP}`, '-c', 'unix_socket_directories=']
  const child: ChildProcess = spawn(findBinaries().postgres, final, {
    ...(spec.runAs ? { uid: spec.runAs.uid, gid: spec.runAs.gid } : {}),
    env: { LC_ALL: 'C.UTF-8', ...spec.env, PGDATA: pgdata },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout!.setEncoding('utf8').on('data', (c: string) => spec.log.write('stdout', c))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => spec.log.write('stderr', c))
  const exited = new Promise<ContainerExit>(resolve => {
    child.once('error', err => { spec.log.write('stderr', `${err.message}\n`); resolve({ exitCode: 128, signal: null }) })
    child.once('close', (code, signal) => {
      spec.log.flush()
      resolve({ exitCode: code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 128), signal })
    })
  })
  let gone = false
  void exited.then(() => { gone = true })
  const ready = (async () => {
    while (!gone) {
      if (await accepts(spec.podIP, port)) return !gone
      await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 50))])
    }
    return false
  })()
  const killGroup = (signal: NodeJS.Signals): void => {
    if (gone || child.pid === undefined) return
    try { process.kill(-child.pid, signal) } catch {}
  }
  return {
    pid: child.pid,
    port,
    pgdata,
    ready,
    exited,
    kill: killGroup,
    async stop (graceMs) {
      killGroup('SIGINT')
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs)
      const exit = await exited
      clearTimeout(timer)
      return exit
    }
  }
}
