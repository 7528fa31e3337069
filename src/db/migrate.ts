// Forward-only numbered .sql migrations, via node-pg-migrate: each file runs in
// its own transaction, and an advisory lock serialises processes that start
// together (the second waits, then finds nothing left to do).
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'
import type { FastifyBaseLogger } from 'fastify'

type Logger = Pick<FastifyBaseLogger, 'info' | 'warn' | 'error'>

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url))
export const SCHEMA = 'toygres'
export const MIGRATIONS_TABLE = 'migrations'

/** Migration names (file names without .sql) in the order they apply. */
export function migrationNames (): string[] {
  return readdirSync(MIGRATIONS_DIR).filter(f => f.endsWith('.sql')).sort().map(f => f.slice(0, -4))
}

export async function migrate (databaseUrl: string, logger: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    migrationsSchema: SCHEMA,
    createMigrationsSchema: true,
    checkOrder: true,
    singleTransaction: false,
    advisoryLockMode: 'wait',
    log: () => {},
    // Its errors are thrown to us too; logging them here would say it twice.
    logger: { debug () {}, info () {}, warn: (m: string) => logger.warn(m), error () {} }
  })
  for (const m of applied) logger.info({ migration: m.name }, 'applied migration')
  return applied.map(m => m.name)
}
