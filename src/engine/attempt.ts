// One attempt of a step: the activity gets a signal aborted by cancellation or
// by the per-attempt timeout, and the attempt settles as soon as that signal
// fires even if the activity ignores it (its promise is left to finish alone).
import { StepTimeoutError } from './errors.ts'

export async function runAttempt<T> (step: string, fn: (signal: AbortSignal) => Promise<T>, cancel: AbortSignal | null, timeoutMs: number): Promise<T> {
  const ctrl = new AbortController()
  const timer = timeoutMs > 0
    ? setTimeout(() => ctrl.abort(new StepTimeoutError(step, timeoutMs)), timeoutMs)
    : undefined
  const onCancel = (): void => ctrl.abort(cancel?.reason)
  if (cancel?.aborted) onCancel()
  else cancel?.addEventListener('abort', onCancel, { once: true })
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(ctrl.signal.reason)
    if (ctrl.signal.aborted) onAbort()
    else ctrl.signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([fn(ctrl.signal), aborted])
  } finally {
    clearTimeout(timer)
    cancel?.removeEventListener('abort', onCancel)
    if (onAbort) ctrl.signal.removeEventListener('abort', onAbort)
    aborted.catch(() => {})
  }
}

/** Waits ms, or rejects with the signal's reason when it aborts first. */
export function delay (ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return }
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
