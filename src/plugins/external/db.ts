// The `db` decorator: one pg Pool for the app, migrated before anything uses it.
import fp from 'fastify-plugin'
import pg from 'pg'
import { migrate, migrationNames, MIGRATIONS_TABLE, SCHEMA } from '../../db/migrate.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: pg.Pool
    /** True when every migration on disk is applied. */
    migrationsApplied (): Promise<boolean>
  }
}

export interface DbPluginOptions {
  readonly databaseUrl: string
  readonly poolSize?: number
  readonly migrate?: boolean
}

export default fp<DbPluginOptions>(async (app, opts) => {
  if (opts.migrate !== false) await migrate(opts.databaseUrl, app.log)
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    application_name: 'toygres',
    connectionTimeoutMillis: 10_000
  })
  // An idle client that loses its server must not crash the process.
  pool.on('error', err => app.log.warn({ err }, 'idle database connection failed'))
  const expected = migrationNames()
  app.decorate('db', pool)
  app.decorate('migrationsApplied', async () => {
    const { rows } = await pool.query<{ name: string }>(`SELECT name FROM ${SCHEMA}.${MIGRATIONS_TABLE}`)
    const applied = new Set(rows.map(r => r.name))
    return expected.every(name => applied.has(name))
  })
  app.addHook('onClose', async () => { await pool.end() })
}, { name: 'db' })
