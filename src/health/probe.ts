// The health probe: connect, `SELECT 1`, disconnect, under a deadline. It
// never throws: every failure is an outcome (ok: false, with a readable
// error), because a failed check is data, not a reason to retry a step.
// The password is handed to pg separately (never in the connection string)
// and scrubbed from error text. TLS as libpq's sslmode=prefer, remembered per
// target so a server without TLS costs one connection per probe, not two.
import pg from 'pg'
import type { CheckResult } from './store.ts'

const NO_TLS = 'The server does not support SSL connections'
const plainTargets = new Set<string>()

export interface ProbeInput {
  connection_string: string
  password: string
  timeout_ms: number
}

interface Target { host: string, port: number, user: string, database: string }

function parseTarget (connectionString: string): Target {
  const url = new URL(connectionString)
  const user = decodeURIComponent(url.username) || 'postgres'
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    user,
    database: decodeURIComponent(url.pathname.slice(1)) || user
  }
}

async function selectOne (target: Target, password: string, tls: boolean, signal: AbortSignal): Promise<void> {
  const client = new pg.Client({
    ...target, password, ssl: tls ? { rejectUnauthorized: false } : false, application_name: 'toygres-health'
  })
  const hangUp = (): void => { (client as unknown as { connection?: { stream?: { destroy (): void } } }).connection?.stream?.destroy() }
  signal.addEventListener('abort', hangUp, { once: true })
  client.on('error', () => {}) // surfaces through the pending promise
  try {
    signal.throwIfAborted()
    await client.connect()
    await client.query('SELECT 1')
  } finally {
    signal.removeEventListener('abort', hangUp)
    await client.end().catch(() => {})
  }
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
  const where = `${target.host}:${target.port}`
  try {
    if (plainTargets.has(where)) {
      await selectOne(target, input.password, false, attempt)
    } else {
      try {
        await selectOne(target, input.password, true, attempt)
      } catch (err) {
        if ((err as Error).message !== NO_TLS) throw err
        plainTargets.add(where)
        await selectOne(target, input.password, false, attempt)
      }
    }
    return done(null)
  } catch (err) {
    if (signal.aborted) throw signal.reason // cancelled: not a check result
    if (deadline.aborted) return done(`no answer from ${where} within ${input.timeout_ms} ms`)
    const { code, message } = err as { code?: string, message?: string }
    const text = message ?? String(err)
    const scrubbed = input.password ? text.replaceAll(input.password, '***') : text
    return done(`${where}: ${scrubbed}${code ? ` (${code})` : ''}`)
  }
}
