// Runs src/server.ts as a user would: a real child process with its own env.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

export interface ServerProcess {
  readonly child: ChildProcess
  readonly url: string
  output (): string
  /** Resolves with the exit code (or the signal name) once the process ends. */
  exited: Promise<number | string>
}

export function spawnServer (env: Record<string, string>, port: number): ServerProcess {
  let out = ''
  const child = spawn(process.execPath, [SERVER], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stdout!.on('data', d => { out += d })
  child.stderr!.on('data', d => { out += d })
  const exited = new Promise<number | string>(resolve => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return { child, url: `http://127.0.0.1:${port}`, output: () => out, exited }
}

/** Polls `url` until it answers 200, the process exits, or the deadline passes. */
export async function waitForOk (server: ServerProcess, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let ended = false
  void server.exited.then(() => { ended = true })
  while (Date.now() < deadline && !ended) {
    try {
      const res = await fetch(server.url + path)
      if (res.status === 200) return
    } catch {}
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${path} never answered 200; output:\n${server.output()}`)
}
