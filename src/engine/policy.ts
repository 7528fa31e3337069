// Step retry policy. Defaults: 3 attempts, 1 s then ×2 up to 30 s between
// them, no per-attempt timeout. Back-offs up to IN_PROCESS_BACKOFF_MAX_MS wait
// in the worker; longer ones become durable timers that free the worker.
import type { StepPolicy } from './types.ts'

export const DEFAULT_STEP_POLICY: StepPolicy = Object.freeze({
  maxAttempts: 3,
  initialDelayMs: 1000,
  backoffFactor: 2,
  maxDelayMs: 30_000,
  timeoutMs: 0
})

export const IN_PROCESS_BACKOFF_MAX_MS = 5000

export function resolvePolicy (...layers: Array<Partial<StepPolicy> | undefined>): StepPolicy {
  const out: StepPolicy = { ...DEFAULT_STEP_POLICY }
  for (const layer of layers) {
    if (!layer) continue
    for (const [k, v] of Object.entries(layer) as Array<[keyof StepPolicy, number | undefined]>) {
      if (v !== undefined) out[k] = v
    }
  }
  if (!(out.maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1')
  return out
}

/** Delay before attempt `next` (2 = the first retry). No jitter: replays stay predictable. */
export function backoffMs (policy: StepPolicy, next: number): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.backoffFactor ** (next - 2))
}
