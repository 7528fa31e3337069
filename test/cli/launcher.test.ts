// The `toygres` bin runs wherever it is started from: on the machine's older
// node (it re-runs itself with the pinned Node 24 of node_modules/.bin), on
// Node 24 (in process), from under a node_modules folder (a global install,
// where Node refuses to strip types itself), through `npx toygres` in the
// clone; and `toygres server` runs the control plane as `npm start` does,
// stopping gracefully on a signal sent to the command.
import { execFileSync } from 'node:child_process'
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import t from 'tap'
import pkg from '../../package.json' with { type: 'json' }
import { localProvisionerEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { freePort } from '../helpers/ports.ts'
import { BIN, ROOT, toygres } from './helpers.ts'

/** A `node` on PATH outside node_modules that is older than 24.11 (this machine's own), if any. */
function olderNode (): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(d => d && !d.includes('node_modules'))) {
    try {
      const version = execFileSync(join(dir, 'node'), ['--version'], { encoding: 'utf8' }).trim()
      const [major, minor] = version.slice(1).split('.').map(Number) as [number, number]
      if (major < 24 || (major === 24 && minor < 11)) return join(dir, 'node')
    } catch {}
  }
  return undefined
}

const old = olderNode()

t.test('on an older node: re-run with the pinned Node 24', { skip: old ? false : 'no node older than 24.11 on PATH' }, async t => {
  const version = await toygres(['--version'], { node: old })
  t.equal(version.code, 0, version.stderr)
  t.equal(version.stdout, `${pkg.version}\n`)
  // The whole CLI runs (the TypeScript an old node cannot read), with its exit code passed through.
  const port = await freePort()
  const unreachable = await toygres(['list', '--url', `http://127.0.0.1:${port}`], { node: old })
  t.equal(unreachable.code, 3)
  t.match(unreachable.stderr, /is not reachable \(ECONNREFUSED\)/)

  // Without a pinned Node next to it: what to do, not a syntax error.
  const alone = await mkdtemp(join(tmpdir(), 'toygres-bin-'))
  t.teardown(() => rm(alone, { recursive: true, force: true }))
  await cp(BIN, join(alone, 'toygres.js'))
  const lost = await toygres([], { node: old, command: { file: old!, args: [join(alone, 'toygres.js'), '--version'] } })
  t.equal(lost.code, 2)
  t.match(lost.stderr, /^toygres: needs Node\.js 24\.11 or newer, and this is v\d+.*\nRun `npm install` in the Toygres clone/)
})

t.test('on Node 24: in process', async t => {
  const run = await toygres(['--version'])
  t.equal(run.code, 0)
  t.equal(run.stdout, `${pkg.version}\n`)
})

t.test('installed under node_modules (a global install): types stripped by the launcher', async t => {
  const prefix = await mkdtemp(join(tmpdir(), 'toygres-global-'))
  t.teardown(() => rm(prefix, { recursive: true, force: true }))
  const pkgDir = join(prefix, 'lib', 'node_modules', 'toygres')
  for (const part of ['cli', 'client', 'package.json']) await cp(join(ROOT, part), join(pkgDir, part), { recursive: true })
  await symlink(join(ROOT, 'node_modules'), join(pkgDir, 'node_modules'))
  const run = await toygres(['--help'], { command: { file: process.execPath, args: [join(pkgDir, 'cli', 'toygres.js'), '--help'] } })
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /Usage: toygres/)
  t.equal(run.stderr, '', 'no warnings')
})

t.test('npx toygres in the clone', async t => {
  const run = await toygres([], { command: { file: 'npx', args: ['--no-install', 'toygres', '--version'] } })
  t.equal(run.code, 0, run.stderr)
  t.equal(run.stdout, `${pkg.version}\n`)
})

t.test('toygres server: the control plane, stopped gracefully by a signal to the command', async t => {
  const port = await freePort()
  const env = {
    ...(await localProvisionerEnv(t)),
    DATABASE_URL: await createTestDatabase(t),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    TOYGRES_WORKER_CONCURRENCY: '1'
  }
  // Through the older node when there is one: two processes pass the signal on.
  const server = toygres(['server'], { env, ...(old ? { node: old } : {}) })
  let ended = false
  void server.then(() => { ended = true })
  const ready = await pollUntil(async () => ended ? 'ended' : fetch(`http://127.0.0.1:${port}/readyz`).then(r => r.status, () => 0), s => s === 200 || s === 'ended', { timeoutMs: 60_000, what: 'the server to be ready' })
  t.equal(ready, 200, 'ready')
  t.equal((await toygres(['list', '--url', `http://127.0.0.1:${port}`])).code, 0, 'and answering the CLI')
  server.child.kill('SIGTERM')
  const run = await server
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout + run.stderr, /"signal":"SIGTERM".*"msg":"shutting down"/)
  await t.rejects(fetch(`http://127.0.0.1:${port}/readyz`), 'the port is closed')
})
