// Each test file gets its own database, created from the admin URL that
// test/run.ts provides, and dropped (even with open connections) at teardown.
import { randomBytes } from 'node:crypto'
import pg from 'pg'

export function adminUrl (): string {
  const url = process.env.TOYGRES_TEST_ADMIN_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
  if (!url) throw new Error('run the tests through `npm test` (or set TEST_DATABASE_URL)')
  return url
}

async function asAdmin (admin: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** A fresh, empty database on the server of `admin`, and a way to drop it. */
export async function createDatabase (admin: string, prefix: string): Promise<{ url: string, drop (): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`
  await asAdmin(admin, `CREATE DATABASE ${name}`)
  const url = new URL(admin)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => asAdmin(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

interface Teardown { teardown (fn: () => unknown): void }

/** Creates a fresh database and returns its URL; dropped when `t` ends. */
export async function createTestDatabase (t: Teardown, prefix = 'toygres_t'): Promise<string> {
  const db = await createDatabase(adminUrl(), prefix)
  t.teardown(() => db.drop())
  return db.url
}

/**
 * A pool on a test database, ended when `t` ends. The database is dropped
 * WITH (FORCE) at teardown, which may end an idle client before pool.end():
 * that `'error'` is expected, and an unheard one would crash the test process.
 */
export function testPool (t: Teardown, url: string, max?: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max })
  pool.on('error', () => {})
  t.teardown(() => pool.end())
  return pool
}

/**
 * A client for an instance's connection URI that verifies the server's
 * certificate and name against `ca`, as libpq's sslmode=verify-full does
 * (stricter than the URI's require). node-postgres would read sslmode
 * from the URI over the ssl option, so the URI's sslmode is taken out; a URI
 * without sslmode=require connects without TLS.
 */
export function instanceClient (uri: string, ca: string): pg.Client {
  const tls = /[?&]sslmode=require\b/.test(uri)
  return new pg.Client({ connectionString: uri.replace(/[?&]sslmode=[^&]*/, ''), ssl: tls ? { ca } : false })
}
