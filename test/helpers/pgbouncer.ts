// A real PgBouncer in transaction mode in front of a test database, for the
// transaction-pooler tests. Debian's pgbouncer package; .ci/run installs it.
// It refuses to run as root, so it runs as the postgres OS user (-u).
import { spawn, execFileSync } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'
import { pollUntil } from './poll.ts'
import pg from 'pg'

export const PGBOUNCER = '/usr/sbin/pgbouncer'

export function hasPgBouncer (): boolean {
  try { execFileSync(PGBOUNCER, ['--version'], { stdio: 'ignore' }); return true } catch { return false }
}

interface Teardown { teardown (fn: () => unknown): void }

/** Starts PgBouncer (pool_mode=transaction) for `databaseUrl`; returns a URL through it. */
export async function startPgBouncer (t: Teardown, databaseUrl: string): Promise<string> {
  const target = new URL(databaseUrl)
  const dir = await mkdtemp(join(tmpdir(), 'toygres-pgbouncer-'))
  await chmod(dir, 0o755)
  const port = await freePort()
  const db = target.pathname.slice(1)
  await writeFile(join(dir, 'users.txt'), '"postgres" ""\n', { mode: 0o644 })
  await writeFile(join(dir, 'pgbouncer.ini'), `[databases]
${db} = host=${target.hostname} port=${target.port || 5432} dbname=${db} user=${decodeURIComponent(target.username) || 'postgres'}${target.password ? ` password=${decodeURIComponent(target.password)}` : ''}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'users.txt')}
pool_mode = transaction
default_pool_size = 20
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options,statement_timeout
`, { mode: 0o644 })
  const args = process.getuid?.() === 0 ? ['-u', 'postgres', join(dir, 'pgbouncer.ini')] : [join(dir, 'pgbouncer.ini')]
  const child = spawn(PGBOUNCER, args, { stdio: 'ignore' })
  t.teardown(async () => {
    child.kill('SIGTERM')
    await new Promise(resolve => child.once('exit', resolve))
    await rm(dir, { recursive: true, force: true })
  })
  const url = `postgresql://postgres@127.0.0.1:${port}/${db}`
  await pollUntil(async () => {
    const c = new pg.Client({ connectionString: url })
    c.on('error', () => {})
    try { await c.connect(); await c.query('SELECT 1'); return true } catch { return false } finally { await c.end().catch(() => {}) }
  }, ok => ok, { what: 'pgbouncer accepting connections', timeoutMs: 20_000 })
  return url
}
