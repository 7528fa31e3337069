#!/usr/bin/env node
// The `toygres` command's launcher. It is plain JavaScript because the `node`
// that `#!/usr/bin/env node` finds may be older than the Node 24 that runs
// the TypeScript sources (type stripping):
// - Node >= 24.11: imports cli/toygres.ts in this process. Node refuses to
//   strip types under node_modules (a tarball installed globally lands
//   there), so in that case a load hook strips them with Node's own
//   module.stripTypeScriptTypes.
// - older: runs this file again with the Node 24 the project pins (the `node`
//   devDependency, node_modules/.bin/node), passing the arguments, the
//   terminal and the exit status through. Without one it says what to do.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const NEEDS = [24, 11]
const here = dirname(fileURLToPath(import.meta.url))
const entry = join(here, 'toygres.ts')
const [major, minor] = process.versions.node.split('.').map(Number)
const recentEnough = major > NEEDS[0] || (major === NEEDS[0] && minor >= NEEDS[1])

if (recentEnough) {
  if (entry.split(sep).includes('node_modules')) await stripTypesUnderNodeModules()
  await import(pathToFileURL(entry).href)
} else {
  relaunch()
}

function relaunch () {
  const pinned = [join(here, '..', 'node_modules', '.bin', 'node'), join(here, '..', 'node_modules', 'node', 'bin', 'node')].find(p => existsSync(p))
  if (!pinned || process.env.TOYGRES_RELAUNCHED) {
    process.stderr.write(`toygres: needs Node.js ${NEEDS.join('.')} or newer, and this is ${process.version}.\n` +
      'Run `npm install` in the Toygres clone (it brings Node 24 as a devDependency), or install Node.js 24.\n')
    process.exit(2)
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TOYGRES_RELAUNCHED: '1' }
  })
  // Ctrl-C reaches the whole foreground process group, the child included:
  // this process only waits for it. Signals sent to this process alone
  // (a supervisor's SIGTERM) are passed on.
  process.on('SIGINT', () => {})
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(signal, () => child.kill(signal))
  child.on('error', err => {
    process.stderr.write(`toygres: cannot run ${pinned}: ${err.message}\n`)
    process.exit(2)
  })
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
    }
    process.exit(code ?? 1)
  })
}

async function stripTypesUnderNodeModules () {
  const { registerHooks, stripTypeScriptTypes } = await import('node:module')
  // Node strips the same way on its own; its "experimental" notice is not for the command's users.
  const emitWarning = process.emitWarning
  process.emitWarning = (warning, ...rest) => {
    if (String(warning?.message ?? warning).includes('stripTypeScriptTypes')) return
    return emitWarning.call(process, warning, ...rest)
  }
  registerHooks({
    load (url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context)
      const source = stripTypeScriptTypes(readFileSync(fileURLToPath(url), 'utf8'))
      return { format: 'module', source, shortCircuit: true }
    }
  })
}
