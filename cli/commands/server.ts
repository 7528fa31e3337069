// `toygres server`: the control plane, as `npm start` runs it: `node
// src/server.ts` in the package's directory (so ./.toygres is the same one),
// with this environment and this terminal. The server is spawned, not
// imported: the CLI knows the server only through HTTP.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import type { Io } from '../context.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

export function registerServer (program: Command, io: Io): void {
  program.command('server')
    .description('Start the control plane (as npm start does: PORT, HOST, DATABASE_URL… from the environment)')
    .action(() => serve(io))
}

function serve (io: Io): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SERVER], { cwd: ROOT, env: io.env, stdio: 'inherit' })
    // Ctrl-C reaches the server itself (same process group); a signal sent to us alone is passed on.
    const ignore = (): void => {}
    const pass = (signal: NodeJS.Signals): void => { child.kill(signal) }
    process.on('SIGINT', ignore)
    process.on('SIGTERM', pass)
    process.on('SIGHUP', pass)
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (signal) {
        process.removeAllListeners(signal)
        process.kill(process.pid, signal)
      }
      process.exit(code ?? 1)
      resolve()
    })
  })
}
