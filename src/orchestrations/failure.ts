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
  // The step is kept beside the message, so the message is the step's own reason, not "step "…" failed after n attempt(s): …".
  if (err instanceof StepFailedError) return { step: err.step, message: err.cause instanceof Error ? err.cause.message : String(err.cause ?? err.message) }
  return { step: null, message: err instanceof Error ? err.message : String(err) }
}

/** The instance is not in a state the change can start from: the operation fails at once, saying so. */
export function wrongState (change: string, state: string | null): NonRetryableError {
  return new NonRetryableError(state === null ? 'the instance no longer exists' : `cannot ${change} an instance that is ${state}`)
}
