// One short-lived login to a PostgreSQL server, shared by test-connection and
// the health check. The password is handed to pg separately (connection
// strings never carry it). The URL's sslmode decides TLS, not whether a CA
// is given. require, verify-ca and verify-full: TLS is required and the
// certificate must chain to the control plane's CA, which must then be given
// (all three as libpq's sslmode=verify-ca: clients reach instances by IP as
// often as by name). disable: plain text. Anything else (prefer when absent):
// libpq's sslmode=prefer, unverified: try TLS, fall back to plain text only
// when the server says it does not do TLS; queryOnce remembers servers that
// refused, so each later login to them costs one connection, not two.
import { createSecureContext, type SecureContext } from 'node:tls'
import pg from 'pg'

export interface Target {
  host: string
  port: number
  user: string
  database: string
  /** The URL's sslmode (libpq's names); `prefer` when absent. */
  sslmode: string
}

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
    database: decodeURIComponent(url.pathname.slice(1)) || user,
    sslmode: url.searchParams.get('sslmode') ?? 'prefer'
  }
}

/** "host:port", for messages: never the user or the password. */
export const describeTarget = (t: Target): string => `${t.host}:${t.port}`

type Tls = false | { rejectUnauthorized: false } | { secureContext: SecureContext, rejectUnauthorized: true, checkServerIdentity: () => undefined }

const contexts = new Map<string, SecureContext>()
const CONTEXTS_MAX = 16

/**
 * TLS options that verify the chain against `caPem` (and only it), as
 * libpq's verify-ca. The context (the parsed CA in an X.509 store) is made
 * once per CA and reused: tls.connect would otherwise build one for every
 * connection, about 0.25 ms of CPU each, once per health check. A handful
 * of CAs at most are in use (one per control plane); past 16 it starts over.
 */
function verifyingTls (caPem: string): Tls {
  let secureContext = contexts.get(caPem)
  if (!secureContext) {
    if (contexts.size >= CONTEXTS_MAX) contexts.clear()
    secureContext = createSecureContext({ ca: caPem })
    contexts.set(caPem, secureContext)
  }
  return { secureContext, rejectUnauthorized: true, checkServerIdentity: () => undefined }
}

/** A session for `fn`, closed afterwards; the signal ends it at once, whatever stage it is in. */
async function session<T> (target: Target, password: string, ssl: Tls, signal: AbortSignal, applicationName: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ host: target.host, port: target.port, user: target.user, database: target.database, password, ssl, application_name: applicationName })
  const hangUp = (): void => { (client as unknown as { connection?: { stream?: { destroy (): void } } }).connection?.stream?.destroy() }
  signal.addEventListener('abort', hangUp, { once: true })
  client.on('error', () => {}) // errors after a hang-up surface through the pending promise
  try {
    signal.throwIfAborted()
    await client.connect()
    return await fn(client)
  } finally {
    signal.removeEventListener('abort', hangUp)
    await client.end().catch(() => {})
  }
}

const queryOver = <R extends pg.QueryResultRow> (target: Target, password: string, sql: string, ssl: Tls, signal: AbortSignal, applicationName: string): Promise<R[]> =>
  session(target, password, ssl, signal, applicationName, async client => (await client.query<R>(sql)).rows)

const plainTargets = new Set<string>()
const PLAIN_TARGETS_MAX = 10_000

export interface QueryOnceOptions {
  /** Aborts the connection at whatever stage it is. */
  signal: AbortSignal
  applicationName: string
  /**
   * PEM of the CA instances' certificates chain to. Used when the target's
   * sslmode is require, verify-ca or verify-full: TLS is then required and
   * verified against it (as verify-ca); otherwise TLS is preferred, unverified.
   */
  caPem?: string | null
}

const REQUIRES_TLS = new Set(['require', 'verify-ca', 'verify-full'])

/**
 * Logs in as `target.user` with `password` and runs `sql`; resolves with its
 * rows. Rejects with pg's error (SQLSTATE in `code`) or a socket error
 * (errno in `code`), or the signal's reason.
 */
export async function queryOnce<R extends pg.QueryResultRow> (target: Target, password: string, sql: string, opts: QueryOnceOptions): Promise<R[]> {
  if (REQUIRES_TLS.has(target.sslmode)) {
    if (!opts.caPem) throw new Error(`sslmode=${target.sslmode} needs the CA certificate`)
    return queryOver<R>(target, password, sql, verifyingTls(opts.caPem), opts.signal, opts.applicationName)
  }
  const where = describeTarget(target)
  if (target.sslmode === 'disable' || plainTargets.has(where)) return queryOver<R>(target, password, sql, false, opts.signal, opts.applicationName)
  try {
    return await queryOver<R>(target, password, sql, { rejectUnauthorized: false }, opts.signal, opts.applicationName)
  } catch (err) {
    if ((err as Error).message !== NO_TLS) throw err
    if (plainTargets.size >= PLAIN_TARGETS_MAX) plainTargets.clear()
    plainTargets.add(where)
    return queryOver<R>(target, password, sql, false, opts.signal, opts.applicationName)
  }
}

/**
 * Logs in as `target.user` and runs `fn` on the session, over TLS verified
 * against `opts.caPem` when the target's sslmode requires it. For the few
 * statements a day-2 change needs (ALTER SYSTEM, ALTER ROLE, pg_settings).
 */
export async function withSession<T> (target: Target, password: string, opts: QueryOnceOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  if (REQUIRES_TLS.has(target.sslmode)) {
    if (!opts.caPem) throw new Error(`sslmode=${target.sslmode} needs the CA certificate`)
    return session(target, password, verifyingTls(opts.caPem), opts.signal, opts.applicationName, fn)
  }
  if (target.sslmode === 'disable') return session(target, password, false, opts.signal, opts.applicationName, fn)
  try {
    return await session(target, password, { rejectUnauthorized: false }, opts.signal, opts.applicationName, fn)
  } catch (err) {
    if ((err as Error).message !== NO_TLS) throw err
    return session(target, password, false, opts.signal, opts.applicationName, fn)
  }
}

/** An error's text with the password blanked out. */
export function scrubPassword (text: string, password: string): string {
  return password ? text.replaceAll(password, '***') : text
}
