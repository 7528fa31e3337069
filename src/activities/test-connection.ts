// test-connection: logs in with the password and runs `SELECT version()`.
// The connection string never carries the password (activity outputs are
// checkpointed); it is handed to pg separately, so no percent-encoding is
// involved, and it is scrubbed from every error this module throws.
// TLS as libpq's sslmode=prefer: try TLS, fall back to plain text only when
// the server says it does not do TLS. The certificate is not verified (the
// instance's own self-signed one is normal here); this is a liveness check.
import pg from 'pg'
import type { TestConnectionInput, TestConnectionOutput } from './types.ts'

const DEFAULT_TIMEOUT_SECONDS = 10
const NO_TLS = 'The server does not support SSL connections'
// Connection problems and server restarts are worth retrying; a wrong password or a missing database is not.
const RETRYABLE_SQLSTATE = /^(08|53|57)/
const RETRYABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE'])

export class TestConnectionError extends Error {
  override name = 'TestConnectionError'
  readonly retryable: boolean
  readonly sqlstate: string | undefined

  constructor (message: string, opts: { retryable: boolean, sqlstate?: string | undefined, cause?: unknown }) {
    super(message, { cause: opts.cause })
    this.retryable = opts.retryable
    this.sqlstate = opts.sqlstate
  }
}

interface Target { host: string, port: number, user: string, database: string }

function parseTarget (connectionString: string): Target {
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    throw new TestConnectionError('test-connection: the connection string is not a valid URL', { retryable: false })
  }
  if (url.protocol !== 'postgresql:' && url.protocol !== 'postgres:') {
    throw new TestConnectionError(`test-connection: unsupported scheme ${url.protocol}`, { retryable: false })
  }
  const user = decodeURIComponent(url.username) || 'postgres'
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    user,
    database: decodeURIComponent(url.pathname.slice(1)) || user
  }
}

async function versionOver (target: Target, password: string, tls: boolean, signal: AbortSignal): Promise<string> {
  const client = new pg.Client({ ...target, password, ssl: tls ? { rejectUnauthorized: false } : false, application_name: 'toygres-test-connection' })
  // Ends the attempt at once on abort or timeout, whatever stage it is in.
  const hangUp = (): void => { (client as unknown as { connection?: { stream?: { destroy (): void } } }).connection?.stream?.destroy() }
  signal.addEventListener('abort', hangUp, { once: true })
  client.on('error', () => {}) // errors after a hang-up surface through the pending promise
  try {
    signal.throwIfAborted()
    await client.connect()
    const { rows } = await client.query<{ version: string }>('SELECT version()')
    return rows[0]!.version
  } finally {
    signal.removeEventListener('abort', hangUp)
    await client.end().catch(() => {})
  }
}

export async function testConnection (input: TestConnectionInput, signal: AbortSignal): Promise<TestConnectionOutput> {
  const target = parseTarget(input.connection_string)
  const timeoutSeconds = input.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS
  const deadline = AbortSignal.timeout(timeoutSeconds * 1000)
  const attempt = AbortSignal.any([signal, deadline])
  const where = `${target.host}:${target.port}`
  try {
    try {
      return { version: await versionOver(target, input.password, true, attempt) }
    } catch (err) {
      if ((err as Error).message !== NO_TLS) throw err
      return { version: await versionOver(target, input.password, false, attempt) }
    }
  } catch (cause) {
    if (signal.aborted) throw signal.reason
    const scrub = (text: string): string => input.password ? text.replaceAll(input.password, '***') : text
    if (deadline.aborted) {
      throw new TestConnectionError(`test-connection to ${where} timed out after ${timeoutSeconds} s`, { retryable: true, cause })
    }
    const { code, message } = cause as { code?: string, message?: string }
    const sqlstate = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
    const retryable = sqlstate ? RETRYABLE_SQLSTATE.test(sqlstate) : RETRYABLE_ERRNO.has(code ?? '')
    throw new TestConnectionError(`test-connection to ${where} failed: ${scrub(message ?? String(cause))}${code ? ` (${code})` : ''}`, { retryable, sqlstate, cause })
  }
}
