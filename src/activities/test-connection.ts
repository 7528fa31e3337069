// test-connection: logs in with the password and runs `SELECT version()`.
// The connection string never carries the password (activity outputs are
// checkpointed); see src/postgres/client.ts for how it and TLS are handled.
// The password is scrubbed from every error this module throws.
import { describeTarget, parseTarget, queryOnce, scrubPassword, type Target } from '../postgres/client.ts'
import type { TestConnectionInput, TestConnectionOutput } from './types.ts'

const DEFAULT_TIMEOUT_SECONDS = 10
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

export async function testConnection (input: TestConnectionInput, signal: AbortSignal): Promise<TestConnectionOutput> {
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
    const rows = await queryOnce<{ version: string }>(target, input.password, 'SELECT version()', { signal: attempt, applicationName: 'toygres-test-connection' })
    return { version: rows[0]!.version }
  } catch (cause) {
    if (signal.aborted) throw signal.reason
    if (deadline.aborted) {
      throw new TestConnectionError(`test-connection to ${where} timed out after ${timeoutSeconds} s`, { retryable: true, cause })
    }
    const { code, message } = cause as { code?: string, message?: string }
    const sqlstate = code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
    const retryable = sqlstate ? RETRYABLE_SQLSTATE.test(sqlstate) : RETRYABLE_ERRNO.has(code ?? '')
    throw new TestConnectionError(`test-connection to ${where} failed: ${scrubPassword(message ?? String(cause), input.password)}${code ? ` (${code})` : ''}`, { retryable, sqlstate, cause })
  }
}
