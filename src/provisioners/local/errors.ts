// Which failures are worth retrying. The engine retries anything whose
// `retryable` is not false; a full disk is not going to empty itself within
// a step's retries, so it fails the step at once, saying what to do.
import { PermanentProvisionerError } from '../provisioner.ts'

/** ENOSPC anywhere in the error or its causes (a child program reports it in its stderr text). */
export function isDiskFull (err: unknown): boolean {
  for (let e = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.code === 'ENOSPC' || (typeof e.message === 'string' && /No space left on device/.test(e.message))) return true
  }
  return false
}

/** Runs `fn`, turning a full disk into a permanent error that says so and what to do. */
export async function permanentWhenDiskFull<T> (home: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (err instanceof PermanentProvisionerError || !isDiskFull(err)) throw err
    throw new PermanentProvisionerError(`no space left on the disk holding ${home} (ENOSPC): free some space, then run the operation again`, { cause: err })
  }
}
