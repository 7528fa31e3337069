// What a command that started an operation says at its end: the failing
// step and why (exit 1), or that the wait timed out while it goes on (exit 4).
import type { Ctx } from './context.ts'
import { CliError, EXIT } from './errors.ts'
import { makeProgress, type Progress } from './progress.ts'
import { awaitOperation, type OperationOutcome } from './waiting.ts'

export const DEFAULT_TIMEOUT_SECONDS = 600

/**
 * Follows the operation to its end, drawing its steps. Resolves with the
 * outcome when it succeeded; throws a CliError when it failed (1) or the
 * wait timed out (4).
 */
export async function runToEnd (ctx: Ctx, opts: { name: string, operationId: string, doing: string, timeoutSeconds: number, followHint: string, onFailure?: () => Promise<void> }): Promise<OperationOutcome> {
  const progress = makeProgress(ctx, opts.doing)
  const stopWaiting = onInterrupt(ctx, progress, `stopped waiting; ${opts.doing} goes on: ${opts.followHint}`)
  let result
  try {
    result = await awaitOperation(ctx, opts.name, opts.operationId, progress, opts.timeoutSeconds * 1000)
  } finally {
    stopWaiting()
    progress.done()
  }
  if (!('done' in result)) {
    throw new CliError(`timed out after ${opts.timeoutSeconds}s ${opts.doing}; it goes on: ${opts.followHint}`, EXIT.timeout)
  }
  const outcome = result.done
  if (outcome.status !== 'succeeded') {
    await opts.onFailure?.()
    const where = outcome.failedStep ? ` at ${outcome.failedStep}` : ''
    throw new CliError(`${opts.doing} ${outcome.status === 'cancelled' ? 'was cancelled' : 'failed'}${where}: ${outcome.reason ?? outcome.status}`, EXIT.failed)
  }
  return outcome
}

/** Ctrl-C while waiting: the spinner goes, a word on what goes on, exit 130. Returns the undo. */
export function onInterrupt (ctx: Ctx, progress: Progress, message: string): () => void {
  const stop = (): void => {
    progress.done()
    ctx.err(`\ntoygres: ${message}`)
    process.exit(EXIT.interrupted)
  }
  process.once('SIGINT', stop)
  return () => { process.off('SIGINT', stop) }
}
