// Which failures mean "the database cannot be reached right now" rather than
// "this statement is wrong": connection refused, reset or timed out, the
// server shutting down or not accepting connections yet (SQLSTATE classes 08
// and 57P0x), too many connections (53300), a statement or query timeout
// (57014, pg's query_timeout), and pg-pool's acquire timeout. Callers answer
// these with 503 and Retry-After, and log the outage once, not per request.
// https://www.postgresql.org/docs/current/errcodes-appendix.html

const ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED'])
const SQLSTATE = /^(08...|57P0[1-4]|53300|57014)$/
const MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|not queryable|connection timeout|Cannot use a pool after calling end/

/** True when `err` (or an error in its `cause` chain) says the database is unreachable, overloaded or too slow. */
export function isDatabaseUnavailable (err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown, message?: unknown }
    if (typeof code === 'string' && (ERRNO.has(code) || SQLSTATE.test(code))) return true
    if (typeof message === 'string' && MESSAGES.test(message)) return true
  }
  return false
}
