// check-health: the health variant of test-connection. Connects, runs
// `SELECT 1`, disconnects, under a deadline, verifying the server's
// certificate against the control plane's CA. It never throws for a failed
// check: every failure is an outcome (ok: false, with a readable error),
// because a failed check is data, not a reason to retry a step. Login and
// TLS as src/postgres/client.ts does them.
import type { HealthCheckOutcome } from '../db/health-checks.ts'
import { describeTarget, parseTarget, queryOnce, scrubPassword, type Target } from '../postgres/client.ts'

export interface CheckHealthTarget {
  connection_string: string
  password: string
  /**
   * PEM of the CA the server certificate must chain to. Needed whenever the
   * URL's sslmode is require, verify-ca or verify-full (every connection
   * string Toygres makes says require): null then makes the check fail. With
   * any other sslmode it is not used: TLS preferred, unverified.
   */
  ca_pem: string | null
  /** Milliseconds the whole check may take (connect, TLS, auth, query). */
  timeout_ms: number
}

/** One check's outcome; the time it was taken is the database's, set when it is recorded. */
export type CheckHealthOutput = HealthCheckOutcome

/**
 * Never rejects for an unreachable, slow or refusing server (ok: false);
 * rejects only with the signal's reason when the step is cancelled.
 */
export async function checkHealth (target: CheckHealthTarget, signal: AbortSignal): Promise<CheckHealthOutput> {
  const t0 = performance.now()
  const deadline = AbortSignal.timeout(target.timeout_ms)
  const attempt = AbortSignal.any([signal, deadline])
  const done = (error: string | null): CheckHealthOutput => ({
    ok: error === null, response_time_ms: Math.round((performance.now() - t0) * 100) / 100, error
  })
  let where: Target
  try {
    where = parseTarget(target.connection_string)
  } catch {
    return done('the connection string is not a valid URL')
  }
  try {
    await queryOnce(where, target.password, 'SELECT 1', { signal: attempt, applicationName: 'toygres-health', caPem: target.ca_pem })
    return done(null)
  } catch (err) {
    if (signal.aborted) throw signal.reason // cancelled: not a check result
    if (deadline.aborted) return done(`no answer from ${describeTarget(where)} within ${target.timeout_ms} ms`)
    const { code, message } = err as { code?: string, message?: string }
    return done(`${describeTarget(where)}: ${scrubPassword(message ?? String(err), target.password)}${code ? ` (${code})` : ''}`)
  }
}
