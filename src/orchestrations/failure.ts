// How an orchestration records why it failed: the step that failed (when a
// step did) and a readable message, kept on the instance.
import { CancelledError, NonRetryableError, StepFailedError } from '../engine/index.ts'

/**
 * What to keep on the instance about `err`: the failing step's name (null when
 * no step failed) and its message; a cancellation is { step: null, message:
 * 'cancelled' }.
 */
export function failure (err: unknown): { step: string | null, message: string } {
  if (err instanceof CancelledError) return { step: null, message: 'cancelled' }
  return { step: err instanceof StepFailedError ? err.step : null, message: err instanceof Error ? err.message : String(err) }
}

/** The instance is not in a state the change can start from: the operation fails at once, saying so. */
export function wrongState (change: string, state: string | null): NonRetryableError {
  return new NonRetryableError(state === null ? 'the instance no longer exists' : `cannot ${change} an instance that is ${state}`)
}
