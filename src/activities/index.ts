// The activities' adapters: what each step really does, over the
// provisioner, the metadata SQL, the secret store and the CA. Inputs carry
// the instance's id; the password and the TLS key are read or issued here,
// at run time, and never returned.
import type { Logger } from '../logging.ts'
import type { Queryable } from '../db/queryable.ts'
import { recordCheck } from '../db/health-checks.ts'
import { markFailed, markRunning, readPasswordCiphertext, readProbeTarget, removeInstance } from '../db/instances.ts'
import type { Provisioner } from '../provisioners/provisioner.ts'
import type { SecretBox } from '../secrets.ts'
import type { CertificateAuthority } from '../tls/authority.ts'
import { checkHealth } from './check-health.ts'
import { createDay2Activities } from './day2.ts'
import { TestConnectionError, testConnection } from './test-connection.ts'
import type { Activities } from './types.ts'

export type { Activities } from './types.ts'
export { activityNames } from './names.ts'

/** Starting and stopping health monitors is a service above the activities: they get it handed in. */
export interface MonitorControl {
  start (instanceId: string): Promise<string | null>
  stop (instanceId: string): Promise<void>
}

export interface ActivityDeps {
  db: Queryable
  log: Logger
  provisioner: Provisioner
  secrets: SecretBox
  authority: CertificateAuthority
  monitors: MonitorControl
  health: {
    /** Milliseconds one check may take. */
    timeoutMs: number
    failureThreshold: number
    retentionHours: number
  }
  /** Told of every health check's duration (ms) and outcome, e.g. for metrics. */
  onHealthCheck?: (responseTimeMs: number, ok: boolean) => void
  /** Milliseconds a recorded check started after it was due (database clock). */
  onHealthCheckLateness?: (latenessMs: number) => void
}

/** States in which health checks run; the monitor ends in any other. */
const MONITORED_STATES = new Set(['running', 'restarting', 'updating'])

class InstanceGoneError extends Error {
  override name = 'InstanceGoneError'
  readonly retryable = false
}

/**
 * Every activity over `deps` (Activities in types.ts gives each contract). One
 * that needs the password of an instance whose row is gone fails without
 * retries (InstanceGoneError).
 */
export function createActivities (deps: ActivityDeps): Activities {
  const { db, provisioner, secrets } = deps

  async function password (instanceId: string): Promise<string> {
    const sealed = await readPasswordCiphertext(db, instanceId)
    if (sealed === null) throw new InstanceGoneError(`instance ${instanceId} no longer exists`)
    return secrets.decrypt(sealed)
  }

  return {
    ...createDay2Activities(deps),
    async deployPostgres (input, ctx) {
      const names = await provisioner.serverNames(input)
      const tls = await deps.authority.issueServerCertificate(names, input.instance_name)
      return provisioner.deployPostgres({ ...input, password: await password(input.instance_id), tls }, ctx)
    },
    waitForReady: (input, ctx) => provisioner.waitForReady(input, ctx),
    getConnectionStrings: (input, ctx) => provisioner.getConnectionStrings(input, ctx),
    async testConnection (input, ctx) {
      const target = { password: await password(input.instance_id), ca_pem: deps.authority.certificatePem, timeout_seconds: input.timeout_seconds }
      try {
        return await testConnection({ ...target, connection_string: input.connection_string }, ctx.signal)
      } catch (err) {
        // A new DNS name may not resolve yet: the address works meanwhile.
        if (!(err instanceof TestConnectionError) || err.code !== 'ENOTFOUND' || !input.fallback_connection_string) throw err
        ctx.progress(`${input.connection_string.replace(/^.*@|\/.*$/g, '')} does not resolve yet; testing through ${input.fallback_connection_string.replace(/^.*@|\/.*$/g, '')}`)
        return testConnection({ ...target, connection_string: input.fallback_connection_string }, ctx.signal)
      }
    },
    deletePostgres: (input, ctx) => provisioner.deletePostgres(input, ctx),
    markRunning: ({ instance_id: id, ...info }) => markRunning(db, id, info),
    markFailed: ({ instance_id: id, step, message }) => markFailed(db, id, { step, message }),
    removeMetadata: ({ instance_id: id }) => removeInstance(db, id),
    startHealthCheck: ({ instance_id: id }) => deps.monitors.start(id),
    stopHealthCheck: ({ instance_id: id }) => deps.monitors.stop(id),

    async checkHealth ({ instance_id: id }, ctx) {
      const target = await readProbeTarget(db, id)
      // Monitoring goes on through a restart or an update (a check may fail then: the server is briefly away).
      if (!target || !MONITORED_STATES.has(target.state)) return null
      if (!target.ip_connection_string) return { ok: false, response_time_ms: 0, error: 'the instance has no connection string' }
      const check = (sealed: string) => checkHealth({
        connection_string: target.ip_connection_string!,
        password: secrets.decrypt(sealed),
        ca_pem: deps.authority.certificatePem,
        timeout_ms: deps.health.timeoutMs
      }, ctx.signal)
      let result = await check(target.password_ciphertext)
      // During a password reset the server may already have the new one: not a health problem.
      if (!result.ok && /\(28P01\)$/.test(result.error ?? '') && target.pending_password_ciphertext) result = await check(target.pending_password_ciphertext)
      deps.onHealthCheck?.(result.response_time_ms, result.ok)
      return result
    },

    async recordHealth ({ instance_id: id, result, due_at_ms: dueAtMs }) {
      const dueAt = typeof dueAtMs === 'number' ? new Date(dueAtMs) : null
      const verdict = await recordCheck(db, id, result, deps.health.failureThreshold, deps.health.retentionHours, dueAt)
      if (!verdict) return null
      const { checked_at: at, ...rest } = verdict
      if (dueAt) deps.onHealthCheckLateness?.(Math.max(0, at.getTime() - dueAt.getTime()))
      // Inside the step: logged once per change, never again on a replay.
      if (rest.previous !== rest.current) {
        deps.log[rest.current === 'unhealthy' ? 'warn' : 'info']({ instanceId: id, from: rest.previous, to: rest.current, consecutiveFailures: rest.consecutive_failures, error: result.error }, `instance health: ${rest.previous} → ${rest.current}`)
      }
      return { ...rest, checked_at_ms: at.getTime() }
    },

    async recoverInstance (ref, ctx) {
      try {
        const restarted = await provisioner.recoverPostgres(ref, ctx)
        if (restarted) deps.log.warn({ instance: ref.instance_name }, 'restarted an unhealthy instance')
        return { restarted, error: null }
      } catch (err) {
        if (ctx.signal.aborted) throw err
        deps.log.error({ instance: ref.instance_name, err }, 'restarting an unhealthy instance failed')
        return { restarted: false, error: (err as Error).message ?? String(err) }
      }
    }
  }
}
