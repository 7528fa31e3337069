// Benchmarks run against DATABASE_URL / TEST_DATABASE_URL, or a throwaway
// embedded PostgreSQL; each run works in a fresh database it drops after.
import { createDatabase } from '../../test/helpers/db.ts'
import { startThrowawayCluster } from '../../test/helpers/throwaway-cluster.ts'

export interface BenchDatabase {
  url: string
  server: 'given' | 'embedded'
  close (): Promise<void>
}

export async function benchDatabase (): Promise<BenchDatabase> {
  let admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL
  let stopServer = async (): Promise<void> => {}
  if (!admin) {
    const server = await startThrowawayCluster('toygres-bench-', 'bench')
    admin = server.url
    stopServer = () => server.stop()
  }
  const db = await createDatabase(admin, 'toygres_bench')
  return {
    url: db.url,
    server: process.env.DATABASE_URL || process.env.TEST_DATABASE_URL ? 'given' : 'embedded',
    async close () {
      await db.drop()
      await stopServer()
    }
  }
}

/** --flag value pairs from argv, with defaults. */
export function flags<T extends Record<string, number>> (defaults: T): T {
  const out: Record<string, number> = { ...defaults }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, '')
    if (key in out && argv[i + 1] !== undefined) out[key] = Number(argv[++i])
  }
  return out as T
}
