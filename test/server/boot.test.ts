// Boots the real server process the way a user does and stops it the way an
// orchestrator does (SIGTERM), with DATABASE_URL and with the embedded database.
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createTestDatabase } from '../helpers/db.ts'
import { freePort } from '../helpers/ports.ts'
import { spawnServer, waitForOk } from '../helpers/server-process.ts'

t.test('with DATABASE_URL: ready, serves the OpenAPI document, exits 0 on SIGTERM', async t => {
  const databaseUrl = await createTestDatabase(t)
  const server = spawnServer({ DATABASE_URL: databaseUrl, TOYGRES_WORKER_CONCURRENCY: '1' }, await freePort())
  t.teardown(() => { server.child.kill('SIGKILL') })
  await waitForOk(server, '/readyz')
  const doc = await (await fetch(`${server.url}/docs/json`)).json() as { openapi: string }
  t.equal(doc.openapi, '3.1.0')
  const ui = await fetch(`${server.url}/docs/`)
  t.equal(ui.status, 200)
  t.match(await ui.text(), /swagger-ui/i)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'clean exit')
  t.notMatch(server.output(), databaseUrl.split('@')[0]!.split('//')[1]!.split(':')[1] ?? '\u0000', 'no credentials in logs')
})

t.test('without DATABASE_URL: starts an embedded PostgreSQL, and stops it on SIGTERM', async t => {
  const dataDir = await mkdtemp(join(tmpdir(), 'toygres-boot-'))
  await chmod(dataDir, 0o755)
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const env = { TOYGRES_DATA_DIR: dataDir, TOYGRES_EMBEDDED_DB_PORT: String(await freePort()), TOYGRES_WORKER_CONCURRENCY: '1' }
  const server = spawnServer(env, await freePort())
  t.teardown(() => { server.child.kill('SIGKILL') })
  await waitForOk(server, '/readyz', 120_000)
  t.equal((await fetch(`${server.url}/docs/json`)).status, 200)
  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'clean exit')
  const files = await readdir(join(dataDir, 'control-plane'))
  t.notOk(files.includes('postmaster.pid'), 'embedded database was shut down')

  // A second start reuses the same cluster (no initdb) and is ready again.
  const again = spawnServer(env, await freePort())
  t.teardown(() => { again.child.kill('SIGKILL') })
  await waitForOk(again, '/readyz', 120_000)
  t.notMatch(again.output(), /initialising the embedded/)
  again.child.kill('SIGTERM')
  t.equal(await again.exited, 0)
})

t.test('a wrong DATABASE_URL gives one clear line and a non-zero exit', async t => {
  const closed = await freePort()
  const server = spawnServer({ DATABASE_URL: `postgresql://postgres:s3cret-pw@127.0.0.1:${closed}/postgres` }, await freePort())
  const code = await server.exited
  t.equal(code, 1)
  const lines = server.output().trim().split('\n')
  t.equal(lines.length, 1, `one line: ${server.output()}`)
  t.match(lines[0], /^toygres: failed to start: .*ECONNREFUSED|connect/)
  t.notMatch(server.output(), /s3cret-pw/)
})

t.test('an invalid setting stops the boot naming the variable', async t => {
  const server = spawnServer({ TOYGRES_PROVISIONER: 'docker' }, await freePort())
  t.equal(await server.exited, 78)
  t.match(server.output(), /TOYGRES_PROVISIONER/)
})
