// Per-file test database, migrated, with teardown of every stack started on it.
import { createTestDatabase } from '../helpers/db.ts'
import type pg from 'pg'
import { migrate } from '../../src/db/migrate.ts'
import { createEffects, logger, startStack, type Stack } from './fixtures/setup.ts'
import type { EngineOptions } from '../../src/engine/index.ts'

interface TestLike { teardown (fn: () => unknown): void }

export async function engineDatabase (t: TestLike): Promise<{ url: string, stack (opts?: Partial<EngineOptions>): Promise<Stack> }> {
  const url = await createTestDatabase(t, 'toygres_eng')
  await migrate(url, logger)
  const stacks: Stack[] = []
  // Registered after the database's own teardown, so it runs first (LIFO).
  t.teardown(async () => { for (const s of stacks.reverse()) await s.stop() })
  let first = true
  return {
    url,
    async stack (opts = {}) {
      const s = await startStack(url, opts)
      stacks.push(s)
      if (first) { first = false; await createEffects(s.pool) }
      return s
    }
  }
}

/** The start jobs pg-boss holds for `operationId`, in any state. */
export async function startJobs (pool: pg.Pool | pg.PoolClient, operationId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'operationId' = $1", [operationId])
  return rows[0]!.n
}
