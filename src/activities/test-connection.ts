// test-connection: logs in with the password and runs `SELECT version()`,
// verifying the server's certificate against the control plane's CA. The
// connection string never carries the password (activity outputs are
// checkpointed); see src/postgres/client.ts for how it and TLS are handled.
// The password is scrubbed from every error this module throws.
import { describeTarget, parseTarget, queryOnce, scrubPassword, type Target } from '../postgres/client.ts'

const DEFAULT_TIMEOUT_SECONDS = 10
// Connection problems and server restarts are worth retrying; a wrong password
// or a missing database is not (PostgreSQL error classes 08, 53, 57:
// https://www.postgresql.org/docs/current/errcodes-appendix.html).
const RETRYABLE_SQLSTATE = /^(08|53|57)/
// ENOTFOUND too: a load balancer's new DNS name takes minutes to resolve
// (AWS ELB hostnames); the step's policy bounds how long we keep trying.
const RETRYABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'EPIPE'])

/**
 * Why test-connection failed, the password scrubbed from the message;
 * `retryable` says whether another attempt may succeed (see testConnection).
 */
export class TestConnectionError extends Error {
  override name = 'TestConnectionError'
  readonly retryable: boolean
  readonly sqlstate: string | undefined
  /** errno (ECONNREFUSED...) or SQLSTATE, when there is one. */
  readonly code: string | undefined

  constructor (message: string, opts: { retryable: boolean, sqlstate?: string | undefined, code?: string | undefined, cause?: unknown }) {
    super(message, { cause: opts.cause })
    this.retryable = opts.retryable
    this.sqlstate = opts.sqlstate
    this.code = opts.code
  }
}

/** Where and how test-connection logs in: the password and CA are read from the secret store at run time. */
export interface TestConnectionTarget {
  connection_string: string
  password: string
  /**
   * PEM of the CA the server certificate must chain to. Needed whenever the
   * URL's sslmode is require, verify-ca or verify-full (every connection
   * string Toygres makes says require): null then fails, not retryable. With
   * any other sslmode it is not used: TLS preferred, unverified.
   */
  ca_pem: string | null
  /** Seconds for connect + login + query; default 10. */
  timeout_seconds?: number
}

/**
 * Resolves with the server's `SELECT version()`. Rejects with a
 * TestConnectionError: retryable for refused/reset/unresolved connections,
 * timeouts and SQLSTATE classes 08/53/57; not retryable for a wrong password
 * (28P01), a certificate that does not chain to the CA, or a bad URL.
 */
export async function testConnection (input: TestConnectionTarget, signal: AbortSignal): Promise<{ version: string }> {
  let target: Target
  try {
    target = parseTarget(input.connection_string)
  } catch (err) {
    throw new TestConnectionError(`test-connection: ${(err as Error).message}`, { retryable: false })
  }
  const timeoutSeconds = input.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS
  const deadline = AbortSignal.timeout(timeoutSeconds * 1000)
  const attempt = AbortSignal.any([signal, deadline])
  const where = describeTarget(target)
  try {
    const rows = await queryOnce<{ version: string }>(target, input.password, 'SELECT version()', { signal: attempt, applicationName: 'toygres-test-connection', caPem: input.ca_pem })
    return { version: rows[0]!.version }
  } catch (cause) {
    if (signal.aborted) throw signal.reason
    if (deadline.aborted) {
      throw new TestConnectionError(`test-connection to ${where} timed out after ${timeoutSeconds} s`, { retryable: true, cause })
    }
    const { code, message } = cause as { code?: string, message?: string }
    const sqlstate = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
    const retryable = sqlstate ? RETRYABLE_SQLSTATE.test(sqlstate) : RETRYABLE_ERRNO.has(code ?? '')
    throw new TestConnectionError(`test-connection to ${where} failed: ${scrubPassword(message ?? String(cause), input.password)}${code ? ` (${code})` : ''}`, { retryable, sqlstate, code, cause })
  }
}
