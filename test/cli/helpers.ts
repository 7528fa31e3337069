// Runs the real `toygres` command (cli/toygres.js, the package's bin) as a
// child process, as a person or a script would, against a real API.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = fileURLToPath(new URL('../../cli/toygres.js', import.meta.url))

export interface Run { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

export interface RunOptions {
  env?: Record<string, string | undefined>
  input?: string
  /** Runs this instead of `node cli/toygres.js` (e.g. script(1) for a terminal). */
  command?: { file: string, args: string[] }
  node?: string
  cwd?: string
  timeoutMs?: number
}

/** Only what the CLI needs: no inherited TOYGRES_* or PG* from the test's own environment. */
export function cleanEnv (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  return env
}

export function toygres (args: string[], opts: RunOptions = {}): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const file = opts.command?.file ?? opts.node ?? process.execPath
  const argv = opts.command?.args ?? [BIN, ...args]
  const child = spawn(file, argv, { env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', d => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', d => { stderr += d })
  child.stdin!.end(opts.input ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000)
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }) })
  })
  return Object.assign(done, { child })
}

interface TestLike { teardown (fn: () => unknown): void }

/** The real app on a real port, with the local provisioner and workers. */
export async function startApi (t: TestLike, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const local = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...local, TOYGRES_WORKER_CONCURRENCY: '2', ...env })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` }
}
