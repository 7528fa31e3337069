// toygres-orchestrations::orchestration::health-check, one per running
// instance, forever: wait until due, probe, record the verdict, restart a
// dead local server when asked to; after a few such checks, continue as new,
// so the step history stays bounded; the schedule is fixed-rate
// (due_at advances by the interval, it does not drift with the work), and
// ticks missed while the control plane was down are skipped, not replayed.
// It ends (returns) when the instance is gone or no longer running; a delete
// cancels it while it sleeps.
import { activities } from '../activities/names.ts'
import type { InstanceRef } from '../activities/types.ts'
import type { Context, StepPolicy } from '../engine/index.ts'
import { steps } from '../orchestrations/names.ts'
import type { HealthCheckInput } from '../orchestrations/types.ts'
import type { CheckResult, Verdict } from './store.ts'

/** The stored input: the plan's HealthCheckInput plus when the next probe is due. */
export interface HealthCheckLoopInput extends HealthCheckInput {
  /** Epoch ms; absent: probe at once. */
  due_at?: number
}

export interface HealthCheckOutput {
  instance_id: string
  stopped: string
}

export interface HealthCheckDeps {
  /** Reads the instance and probes it; null when it is gone or not running. Never throws for a failed probe. */
  check (instanceId: string, signal: AbortSignal): Promise<CheckResult | null>
  /** Records the check and moves the verdict; null when the instance is no longer running. */
  record (instanceId: string, result: CheckResult): Promise<Verdict | null>
  /** Present when the provisioner can bring a stopped instance back and auto-restart is on. */
  restart?: ((ref: InstanceRef, signal: AbortSignal) => Promise<boolean>) | undefined
  intervalMs: number
  timeoutMs: number
  /**
   * Checks per generation before continuing as new. Each continueAsNew costs
   * an extra run (an immediate job) on top of the one per timer, so 1 would
   * double the engine's work per check; a few keep the history bounded
   * (at most 4 steps per check) at about one run per check.
   */
  checksPerGeneration: number
}

/** The next due time: fixed-rate, but never in the past (missed ticks are dropped). */
export function nextDue (dueAt: number | undefined, checkedAt: number, intervalMs: number): number {
  const next = (dueAt ?? checkedAt) + intervalMs
  return next > checkedAt ? next : checkedAt + intervalMs
}

const RESTART_TIMEOUT_MS = 120_000

export function createHealthCheck (deps: HealthCheckDeps) {
  // The probe bounds itself; the step timeout is only a backstop. A failed
  // probe is a result, not an error: only reading the instance can throw, and
  // that is what the retries are for.
  const probePolicy: Partial<StepPolicy> = { maxAttempts: 3, timeoutMs: deps.timeoutMs + 10_000 }

  return async function healthCheck (ctx: Context, input: HealthCheckLoopInput): Promise<HealthCheckOutput | ReturnType<Context['continueAsNew']>> {
    const { instance_id: instanceId } = input
    const ref: InstanceRef = { namespace: input.namespace, instance_name: input.name }
    let dueAt = input.due_at
    for (let i = 0; i < deps.checksPerGeneration; i++) {
      // Always a sleep when a due time is set (even if already due), so a
      // replay sees the same positions whatever the clock says now.
      if (dueAt !== undefined) await ctx.sleep(Math.max(0, dueAt - Date.now()))

      const result = await ctx.step(activities.TEST_CONNECTION, signal => deps.check(instanceId, signal), probePolicy)
      if (result === null) return { instance_id: instanceId, stopped: 'the instance is gone or not running' }

      const verdict = await ctx.step(steps.RECORD_HEALTH, async () => {
        const v = await deps.record(instanceId, result)
        // Inside the step: logged once per change, never on a replay.
        if (v && v.previous !== v.current) {
          const level = v.current === 'unhealthy' ? 'warn' : 'info'
          ctx.log[level]({ instance: input.name, from: v.previous, to: v.current, consecutiveFailures: v.consecutive_failures, error: result.error }, `instance health: ${v.previous} → ${v.current}`)
        }
        return v
      })
      if (verdict === null) return { instance_id: instanceId, stopped: 'the instance is gone or not running' }

      if (verdict.current === 'unhealthy' && deps.restart) {
        const restart = deps.restart
        await ctx.step(steps.RESTART_INSTANCE, async signal => {
          // Never throws: a failed restart is retried by the next unhealthy check.
          try {
            const restarted = await restart(ref, AbortSignal.any([signal, AbortSignal.timeout(RESTART_TIMEOUT_MS)]))
            if (restarted) ctx.log.warn({ instance: input.name }, 'restarted an unhealthy instance')
            return { restarted, error: null }
          } catch (err) {
            if (signal.aborted) throw err
            ctx.log.error({ instance: input.name, err }, 'restarting an unhealthy instance failed')
            return { restarted: false, error: (err as Error).message ?? String(err) }
          }
        }, { maxAttempts: 1, timeoutMs: 0 })
      }
      // From checkpointed values only: the same on every replay.
      dueAt = nextDue(dueAt, Date.parse(result.checked_at), deps.intervalMs)
    }
    return ctx.continueAsNew<HealthCheckLoopInput>({ instance_id: instanceId, name: input.name, namespace: input.namespace, due_at: dueAt! })
  }
}
