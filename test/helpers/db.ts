// Each test file gets its own database, created from the admin URL that
// test/run.ts provides, and dropped (even with open connections) at teardown.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export function adminUrl (): string {
  const url = process.env.TOYGRES_TEST_ADMIN_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
  if (!url) throw new Error('run the tests through `npm test` (or set TEST_DATABASE_URL)')
  return url
}

interface Teardown { teardown (fn: () => unknown): void }

/** Creates a fresh database and returns its URL; dropped when `t` ends. */
export async function createTestDatabase (t: Teardown, prefix = 'toygres_t'): Promise<string> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl() })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: adminUrl() })
    await c.connect()
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    } finally {
      await c.end()
    }
  })
  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return url.toString()
}
