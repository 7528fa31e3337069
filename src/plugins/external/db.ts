// The `db` decorator: one pg Pool for the app, migrated before anything uses
// it, every wait on it bounded, and `outage` that says plainly (once) when
// the database is down. Through a transaction pooler (TOYGRES_DATABASE_DIRECT_URL
// set), statements are sent unnamed: a named prepared statement lives on one
// server connection, and the pooler hands each transaction another one.
import fp from 'fastify-plugin'
import pg from 'pg'
import { migrate, migrationNames, MIGRATIONS_TABLE, SCHEMA } from '../../db/migrate.ts'
import { createOutageLog, type OutageLog } from '../../db/outage.ts'
import { isTransactionPooled } from '../../db/pooler.ts'

declare module 'fastify' {
  interface FastifyInstance {
    db: pg.Pool
    outage: OutageLog
    /** True when every migration on disk is applied. */
    migrationsApplied (): Promise<boolean>
  }
}

export interface DbPluginOptions {
  /** Where queries go (possibly through a transaction pooler). */
  readonly databaseUrl: string
  /** A session connection for migrations (advisory locks); defaults to databaseUrl. */
  readonly directUrl?: string | undefined
  readonly poolSize?: number
  readonly migrate?: boolean
}

/** pg options bounding every wait: connect and pool acquire, and each statement on both sides. */
export function boundedWaits (timeoutSeconds: number) {
  return {
    connectionTimeoutMillis: timeoutSeconds * 1000,
    // The server abandons the statement; the client stops waiting a moment later (a frozen server answers nothing).
    statement_timeout: timeoutSeconds * 1000,
    query_timeout: timeoutSeconds * 1000 + 1000
  }
}

export default fp<DbPluginOptions>(async (app, opts) => {
  const pooled = opts.directUrl !== undefined && opts.directUrl !== opts.databaseUrl
  if (!pooled && await isTransactionPooled(opts.databaseUrl, app.config.databaseTimeoutSeconds * 1000)) {
    throw new Error('DATABASE_URL goes through a transaction pooler (e.g. PgBouncer pool_mode=transaction), where prepared statements and LISTEN are lost between transactions: set TOYGRES_DATABASE_DIRECT_URL to a direct (session) connection to the same database')
  }
  if (opts.migrate !== false) await migrate(opts.directUrl ?? opts.databaseUrl, app.log)
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    application_name: 'toygres',
    ...boundedWaits(app.config.databaseTimeoutSeconds)
  })
  if (pooled) pool.on('connect', client => unnameStatements(client))
  const outage = createOutageLog({ log: app.log, probe: () => pool.query('SELECT 1') })
  // A client that loses its server must not crash the process: idle ones are reported by the pool ('error');
  // one checked out between two statements has no listener of the pool's, and an unheard 'error' would throw.
  // Its pending and next statements fail anyway, which is where the caller learns of it.
  pool.on('error', err => { if (!outage.report(err)) app.log.warn({ err }, 'idle database connection failed') })
  pool.on('connect', client => { client.on('error', err => { if (!outage.report(err)) app.log.debug({ err }, 'database connection failed while in use') }) })
  const expected = migrationNames()
  app.decorate('db', pool)
  app.decorate('outage', outage)
  app.decorate('migrationsApplied', async () => {
    const { rows } = await pool.query<{ name: string }>(`SELECT name FROM ${SCHEMA}.${MIGRATIONS_TABLE}`)
    const applied = new Set(rows.map(r => r.name))
    return expected.every(name => applied.has(name))
  })
  app.addHook('onClose', async () => {
    outage.close()
    await pool.end()
  })
}, { name: 'db' })

/** Sends this client's named statements unnamed (each parsed again: the price of a transaction pooler). */
function unnameStatements (client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  client.query = ((config: unknown, ...rest: unknown[]) => {
    if (config && typeof config === 'object' && 'name' in config) {
      const { name: _name, ...unnamed } = config as Record<string, unknown>
      return query(unnamed, ...rest)
    }
    return query(config, ...rest)
  }) as typeof client.query
}
