// Benchmarks run against DATABASE_URL / TEST_DATABASE_URL, or a throwaway
// embedded PostgreSQL (always with `embedded: true`); each run works in a
// fresh database it drops after.
import pg from 'pg'
import { createDatabase } from '../../test/helpers/db.ts'
import { startThrowawayCluster } from '../../test/helpers/throwaway-cluster.ts'

export interface BenchDatabase {
  /** The benchmark's own database. */
  url: string
  /** The same server's `postgres` database (or whatever the given URL named): for reading statistics from outside ours. */
  adminUrl: string
  /** Our database's name, as pg_stat_database knows it. */
  name: string
  server: 'given' | 'embedded'
  close (): Promise<void>
}

export async function benchDatabase (opts: { embedded?: boolean } = {}): Promise<BenchDatabase> {
  let admin = opts.embedded ? undefined : process.env.DATABASE_URL || process.env.TEST_DATABASE_URL
  const server = admin ? 'given' : 'embedded'
  let stopServer = async (): Promise<void> => {}
  if (!admin) {
    const cluster = await startThrowawayCluster('toygres-bench-', 'bench')
    admin = cluster.url
    stopServer = () => cluster.stop()
  }
  const db = await createDatabase(admin, 'toygres_bench')
  return {
    url: db.url,
    adminUrl: admin,
    name: decodeURIComponent(new URL(db.url).pathname.slice(1)),
    server,
    async close () {
      await db.drop()
      await stopServer()
    }
  }
}

export interface Commits { commits: number, rollbacks: number }

/**
 * Transactions committed in database `name` so far (pg_stat_database), read
 * from another database so the reading adds nothing to the count. Backends
 * publish their counts at most once a second, and an idle one only after up
 * to 10 s, but always when they exit: so this first waits until no client is
 * connected to `name` (every pool of the measured phase ended), which makes
 * the figure exact.
 */
export async function committed (adminUrl: string, name: string, timeoutMs = 30_000): Promise<Commits> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const { rows: [a] } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name])
      if (a!.n === 0) break
      if (Date.now() > deadline) throw new Error(`${a!.n} connections to ${name} are still open: the phase did not close all its pools`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    // A fresh snapshot of the statistics, not one cached earlier in this session.
    await client.query('SELECT pg_stat_clear_snapshot()')
    const { rows: [r] } = await client.query<{ c: string, r: string }>('SELECT xact_commit::text AS c, xact_rollback::text AS r FROM pg_stat_database WHERE datname = $1', [name])
    return { commits: Number(r!.c), rollbacks: Number(r!.r) }
  } finally {
    await client.end()
  }
}
