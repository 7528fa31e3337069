// health-check (the plan's Phase 3 orchestration), one per running instance,
// forever: wait until due, check, record the verdict, and (when auto-restart
// is on) try to bring back a dead server after every check that leaves it
// unhealthy, not only the one that turned it so. After a few checks it
// continues as new, so its step history stays bounded. The schedule is
// fixed-rate by the database's clock (due_at advances by the interval, it
// does not drift with the work), and checks missed while the control plane
// was down are skipped, not replayed. It ends when the instance is gone or
// no longer running; a delete cancels it while it sleeps.
import type { Context, ContinueAsNew } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import type { HealthCheckInput, HealthCheckOutput } from './types.ts'

export interface HealthCheckSettings {
  /** Milliseconds between checks. */
  intervalMs: number
  /**
   * Checks per generation before continuing as new. Each continueAsNew costs
   * an extra run (an immediate job) on top of the one per timer, so 1 would
   * double the engine's work per check; a few keep the history bounded
   * (at most 4 steps per check) at about one run per check.
   */
  checksPerGeneration: number
  /** Health checks run at once in one worker process (the engine's per-orchestration concurrency). */
  concurrency: number
}

/** The next due time: fixed-rate, but never in the past (missed ticks are dropped). */
export function nextDue (dueAt: number | undefined, checkedAt: number, intervalMs: number): number {
  const next = (dueAt ?? checkedAt) + intervalMs
  return next > checkedAt ? next : checkedAt + intervalMs
}

const GONE: HealthCheckOutput['stopped'] = 'the instance is gone or not running'

/**
 * The health-check orchestration with `settings` (see the header). Resolves
 * when the instance is gone or not running; otherwise continues as new after
 * `settings.checksPerGeneration` checks, carrying the next due time.
 */
export function healthCheck (settings: HealthCheckSettings) {
  return async function healthCheck (ctx: Context<Activities>, input: HealthCheckInput): Promise<HealthCheckOutput | ContinueAsNew<HealthCheckInput>> {
    const act = ctx.activities
    const { instance_id } = input
    let dueAt = input.due_at
    for (let i = 0; i < settings.checksPerGeneration; i++) {
      // Always a timer when a due time is set (even one already due), so a
      // replay sees the same positions whatever the clock says now.
      if (dueAt !== undefined) await ctx.sleepUntil(dueAt)
      const result = await act.checkHealth({ instance_id })
      if (result === null) return { instance_id, stopped: GONE }
      const verdict = await act.recordHealth({ instance_id, result, due_at_ms: dueAt ?? null })
      if (verdict === null) return { instance_id, stopped: GONE }
      if (verdict.current === 'unhealthy' && input.auto_restart) await act.recoverInstance({ namespace: input.namespace, instance_name: input.name, instance_id })
      // From checkpointed values only: the same on every replay.
      dueAt = nextDue(dueAt, verdict.checked_at_ms, settings.intervalMs)
    }
    return ctx.continueAsNew<HealthCheckInput>({ ...input, due_at: dueAt! })
  }
}
