// Several processes starting together must not trip over each other's
// migrations: the advisory lock makes the later ones wait, then find nothing to do.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { pino } from 'pino'
import t from 'tap'
import { migrate, migrationNames } from '../../src/db/migrate.ts'
import { createTestDatabase } from '../helpers/db.ts'

const CLI = fileURLToPath(new URL('../../src/cli/migrate.ts', import.meta.url))

function runMigrateCli (databaseUrl: string): Promise<{ code: number | null, out: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' } })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    child.on('exit', code => resolve({ code, out }))
  })
}

t.test('four `npm run migrate` processes at once: all succeed, each migration applied once', async t => {
  const url = await createTestDatabase(t)
  const results = await Promise.all([1, 2, 3, 4].map(() => runMigrateCli(url)))
  for (const r of results) t.equal(r.code, 0, r.out)
  const applied = results.flatMap(r => [...r.out.matchAll(/"migration":"([^"]+)"/g)].map(m => m[1]))
  t.same(applied.sort(), migrationNames().sort(), 'every migration applied by exactly one process')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const { rows } = await client.query<{ name: string }>('SELECT name FROM toygres.migrations ORDER BY id')
  await client.end()
  t.same(rows.map(r => r.name), migrationNames())
})

t.test('a second run applies nothing', async t => {
  const url = await createTestDatabase(t)
  const log = pino({ level: 'silent' })
  t.same(await migrate(url, log), migrationNames())
  t.same(await migrate(url, log), [])
})
