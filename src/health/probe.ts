// The health probe: connect, `SELECT 1`, disconnect, under a deadline. It
// never throws: every failure is an outcome (ok: false, with a readable
// error), because a failed check is data, not a reason to retry a step.
// Login and TLS as src/postgres/client.ts does them; servers without TLS are
// remembered, so each of their probes costs one connection, not two.
import { describeTarget, parseTarget, queryOnce, scrubPassword, type Target } from '../postgres/client.ts'
import type { CheckResult } from './store.ts'

const plainTargets = new Set<string>()

export interface ProbeInput {
  connection_string: string
  password: string
  timeout_ms: number
}

export async function probe (input: ProbeInput, signal: AbortSignal): Promise<CheckResult> {
  const checkedAt = new Date()
  const t0 = performance.now()
  const deadline = AbortSignal.timeout(input.timeout_ms)
  const attempt = AbortSignal.any([signal, deadline])
  const done = (error: string | null): CheckResult => ({
    ok: error === null, checked_at: checkedAt.toISOString(), response_time_ms: Math.round((performance.now() - t0) * 100) / 100, error
  })
  let target: Target
  try {
    target = parseTarget(input.connection_string)
  } catch {
    return done('the connection string is not a valid URL')
  }
  const where = describeTarget(target)
  try {
    await queryOnce(target, input.password, 'SELECT 1', { signal: attempt, applicationName: 'toygres-health', plainTargets })
    return done(null)
  } catch (err) {
    if (signal.aborted) throw signal.reason // cancelled: not a check result
    if (deadline.aborted) return done(`no answer from ${where} within ${input.timeout_ms} ms`)
    const { code, message } = err as { code?: string, message?: string }
    const text = message ?? String(err)
    return done(`${where}: ${scrubPassword(text, input.password)}${code ? ` (${code})` : ''}`)
  }
}
