// One short-lived login to a PostgreSQL server, shared by test-connection and
// the health probe. The password is handed to pg separately (connection
// strings never carry it), and TLS follows libpq's sslmode=prefer: try TLS,
// fall back to plain text only when the server says it does not do TLS. The
// certificate is not verified: instances use self-signed ones.
import pg from 'pg'

export interface Target { host: string, port: number, user: string, database: string }

const NO_TLS = 'The server does not support SSL connections'

/** host, port, user and database of a postgres:// URL; throws on anything else. */
export function parseTarget (connectionString: string): Target {
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    throw new Error('the connection string is not a valid URL')
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') throw new Error(`unsupported scheme ${url.protocol}`)
  const user = decodeURIComponent(url.username) || 'postgres'
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    user,
    database: decodeURIComponent(url.pathname.slice(1)) || user
  }
}

export const describeTarget = (t: Target): string => `${t.host}:${t.port}`

async function queryOver<R extends pg.QueryResultRow> (target: Target, password: string, sql: string, tls: boolean, signal: AbortSignal, applicationName: string): Promise<R[]> {
  const client = new pg.Client({ ...target, password, ssl: tls ? { rejectUnauthorized: false } : false, application_name: applicationName })
  // Ends the attempt at once on abort or timeout, whatever stage it is in.
  const hangUp = (): void => { (client as unknown as { connection?: { stream?: { destroy (): void } } }).connection?.stream?.destroy() }
  signal.addEventListener('abort', hangUp, { once: true })
  client.on('error', () => {}) // errors after a hang-up surface through the pending promise
  try {
    signal.throwIfAborted()
    await client.connect()
    return (await client.query<R>(sql)).rows
  } finally {
    signal.removeEventListener('abort', hangUp)
    await client.end().catch(() => {})
  }
}

/**
 * Logs in and runs `sql`. `plainTargets`, when given, remembers servers that
 * refused TLS, so the next login to them costs one connection, not two.
 */
export async function queryOnce<R extends pg.QueryResultRow> (target: Target, password: string, sql: string, opts: { signal: AbortSignal, applicationName: string, plainTargets?: Set<string> }): Promise<R[]> {
  const where = describeTarget(target)
  if (opts.plainTargets?.has(where)) return queryOver<R>(target, password, sql, false, opts.signal, opts.applicationName)
  try {
    return await queryOver<R>(target, password, sql, true, opts.signal, opts.applicationName)
  } catch (err) {
    if ((err as Error).message !== NO_TLS) throw err
    opts.plainTargets?.add(where)
    return queryOver<R>(target, password, sql, false, opts.signal, opts.applicationName)
  }
}

/** An error's text with the password blanked out. */
export function scrubPassword (text: string, password: string): string {
  return password ? text.replaceAll(password, '***') : text
}
