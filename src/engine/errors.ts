// The engine's coded errors. Orchestrations and activities test them with
// `instanceof` or by `code`; anything with `retryable === false` is treated
// as non-retryable (duck typing, so provisioners need not import the engine).

export type EngineErrorCode =
  | 'non-retryable' | 'cancelled' | 'non-deterministic' | 'step-failed'
  | 'step-timeout' | 'lease-lost' | 'unknown-orchestration'

export class EngineError extends Error {
  readonly code: EngineErrorCode
  constructor (code: EngineErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts)
    this.code = code
  }
}

/** Thrown by an activity to stop retries at once. */
export class NonRetryableError extends EngineError {
  readonly retryable = false
  constructor (message: string, opts: { cause?: unknown } = {}) {
    super('non-retryable', message, opts)
    this.name = 'NonRetryableError'
  }
}

/** Thrown by ctx.step (once) after cancel() was requested for the operation. */
export class CancelledError extends EngineError {
  readonly retryable = false
  constructor (message = 'operation cancelled') {
    super('cancelled', message)
    this.name = 'CancelledError'
  }
}

/** A replay asked for a different step than history recorded at that position. */
export class NonDeterminismError extends EngineError {
  readonly retryable = false
  constructor (position: number, recorded: string, requested: string) {
    super('non-deterministic', `non-deterministic orchestration: position ${position} recorded step "${recorded}" but the replay asked for "${requested}"`)
    this.name = 'NonDeterminismError'
  }
}

/** A step that used up its attempts, or failed with a non-retryable error. */
export class StepFailedError extends EngineError {
  readonly step: string
  readonly attempts: number
  constructor (step: string, attempts: number, cause: unknown) {
    super('step-failed', `step "${step}" failed after ${attempts} attempt(s): ${messageOf(cause)}`, { cause })
    this.name = 'StepFailedError'
    this.step = step
    this.attempts = attempts
  }
}

/** One attempt ran past the policy's timeoutMs (retryable). */
export class StepTimeoutError extends EngineError {
  constructor (step: string, timeoutMs: number) {
    super('step-timeout', `step "${step}" timed out after ${timeoutMs} ms`)
    this.name = 'StepTimeoutError'
  }
}

/** This run no longer holds the operation's lease: another worker owns it. */
export class LeaseLostError extends EngineError {
  constructor (operationId: string) {
    super('lease-lost', `lost the lease on operation ${operationId}; another run owns it`)
    this.name = 'LeaseLostError'
  }
}

export function isRetryable (err: unknown): boolean {
  return !(typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === false)
}

export function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The JSON shape stored for an error (in steps and operations). */
export interface StoredError {
  message: string
  name?: string
  code?: string
  step?: string
  retryable?: boolean
}

export function toStoredError (err: unknown): StoredError {
  const out: StoredError = { message: messageOf(err) }
  if (err instanceof Error && err.name !== 'Error') out.name = err.name
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') out.code = code
  if (!isRetryable(err)) out.retryable = false
  return out
}

/** Rebuilds a stored step error on replay so orchestrations see the same shape. */
export function fromStoredError (stored: StoredError): Error {
  const err = new Error(stored.message) as Error & { code?: string, retryable?: boolean }
  if (stored.name) err.name = stored.name
  if (stored.code) err.code = stored.code
  if (stored.retryable === false) err.retryable = false
  return err
}
