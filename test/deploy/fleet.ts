// Several real control plane processes on one database, in the roles of the
// Deployments in deploy/: API replicas (TOYGRES_WORKER_CONCURRENCY=0) and
// workers. Each process's connections carry its own application_name (in
// its DATABASE_URL), so pg_stat_activity tells whose backend is whose.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { freePort } from '../helpers/ports.ts'
import { waitForOk, type ServerProcess } from '../helpers/server-process.ts'
import { uninstrumented } from './uninstrumented.ts'

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

/** src/server.ts as test/helpers/server-process.ts runs it, without tap's instrumentation (its memory and CPU are measured). */
function spawnServer (env: Record<string, string>, port: number): ServerProcess {
  let out = ''
  const child = spawn(...uninstrumented(process.execPath, [SERVER]), {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout!.on('data', d => { out += d })
  child.stderr!.on('data', d => { out += d })
  const exited = new Promise<number | string>(resolve => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited }
}

export type Role = 'api' | 'worker'

export interface Replica {
  readonly id: string
  readonly role: Role
  readonly url: string
  readonly process: ServerProcess
  readonly startedAt: number
}

export interface Fleet {
  start (role: Role): Promise<Replica>
  /** Ready (/readyz 200), or an error with the process's output. */
  ready (replica: Replica, timeoutMs?: number): Promise<void>
  /** SIGTERM, as Kubernetes stops a pod; resolves with the exit code. */
  stop (replica: Replica): Promise<number | string>
  /** SIGKILL: a node lost, an OOM kill. */
  kill (replica: Replica): Promise<void>
  /** Resident memory of a live replica, in MiB. */
  rssMiB (replica: Replica): number
  /** CPU a live replica used since it started, in seconds (user + system). */
  cpuSeconds (replica: Replica): number
  readonly all: Replica[]
  /** Throws, with its output, when a replica has exited that was not asked to. */
  assertAlive (): void
  /** The last lines of every replica's output, for a failure message. */
  outputs (lines?: number): string
  close (): Promise<void>
}

export function fleet (databaseUrl: string, env: Record<string, string>, workerConcurrency = 2): Fleet {
  const all: Replica[] = []
  const ended = new Set<Replica>()
  const count: Record<Role, number> = { api: 0, worker: 0 }
  return {
    all,
    async start (role) {
      const id = `toygres-${role}-${++count[role]}`
      const url = new URL(databaseUrl)
      url.searchParams.set('application_name', id)
      const port = await freePort()
      const process = spawnServer({
        ...env,
        DATABASE_URL: url.toString(),
        TOYGRES_WORKER_CONCURRENCY: role === 'api' ? '0' : String(workerConcurrency)
      }, port)
      const replica = { id, role, url: `http://127.0.0.1:${port}`, process, startedAt: Date.now() }
      all.push(replica)
      return replica
    },
    ready: (replica, timeoutMs = 60_000) => waitForOk(replica.process, '/readyz', timeoutMs),
    async stop (replica) {
      ended.add(replica)
      replica.process.child.kill('SIGTERM')
      return replica.process.exited
    },
    async kill (replica) {
      ended.add(replica)
      replica.process.child.kill('SIGKILL')
      await replica.process.exited
    },
    rssMiB (replica) {
      const status = readFileSync(`/proc/${replica.process.child.pid}/status`, 'utf8')
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024)
    },
    assertAlive () {
      const dead = all.find(r => !ended.has(r) && (r.process.child.exitCode !== null || r.process.child.signalCode !== null))
      if (dead) throw new Error(`${dead.id} exited (${dead.process.child.exitCode ?? dead.process.child.signalCode}):\n${dead.process.output()}`)
    },
    cpuSeconds (replica) {
      // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
      const fields = readFileSync(`/proc/${replica.process.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      return (Number(fields[11]) + Number(fields[12])) / 100
    },
    outputs (lines = 30) {
      return all.map(r => `--- ${r.id} (${r.url})\n${r.process.output().split('\n').slice(-lines).join('\n')}`).join('\n')
    },
    async close () {
      for (const r of all) if (r.process.child.exitCode === null && r.process.child.signalCode === null) r.process.child.kill('SIGKILL')
      await Promise.all(all.map(r => r.process.exited))
    }
  }
}
