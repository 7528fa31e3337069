// Detects a transaction pooler in front of the database (PgBouncer with
// pool_mode=transaction, and hosted "transaction poolers"): there, one client
// connection is served by different server sessions from one transaction to
// the next, so session state (named prepared statements, LISTEN, advisory
// locks) is lost. A direct connection keeps one backend per client for life.
// The check makes a second client pin a server session in a transaction,
// then releases it: a pooler's next statement from the first client lands on
// another backend (PgBouncer hands out the most recently freed server
// connection; https://www.pgbouncer.org/config.html#server_round_robin),
// whereas PostgreSQL's backend for that client never changes.
import pg from 'pg'

const pid = async (c: pg.Client): Promise<number> => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid

/** True when consecutive statements of one client ran on different backends. Rejects when it cannot connect. */
export async function isTransactionPooled (connectionString: string, timeoutMs: number): Promise<boolean> {
  const options = { connectionString, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, application_name: 'toygres-pooler-check' }
  const a = new pg.Client(options)
  const b = new pg.Client(options)
  a.on('error', () => {})
  b.on('error', () => {})
  try {
    await a.connect()
    await b.connect()
    const seen = new Set([await pid(a)])
    await b.query('BEGIN')
    await pid(b)
    seen.add(await pid(a))
    await b.query('COMMIT')
    seen.add(await pid(a))
    return seen.size > 1
  } finally {
    await Promise.allSettled([a.end(), b.end()])
  }
}
