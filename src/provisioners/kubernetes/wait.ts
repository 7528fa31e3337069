// Every wait the provisioner does: evaluate the cluster now; if not done,
// report why (ctx.progress, only when the reason changes) and evaluate again
// when something changes — a watch on the objects concerned wakes us at
// once, and a periodic re-check catches what no watch shows (events, a
// neighbour's state). A deadline bounds it: at the deadline the wait fails
// with the last reason seen. The watch is only a wake-up: each evaluation
// reads the current state, so a dropped watch or a missed event costs at
// most one re-check interval, never a wrong answer.
import { Watch, type KubeConfig } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext } from '../types.ts'

export type Step<R> = { done: R } | { fail: Error } | { waiting: string }

export interface Watched {
  /** Collection path, e.g. /api/v1/namespaces/toygres/pods */
  path: string
  fieldSelector?: string
  labelSelector?: string
}

export interface WaitSpec<R> {
  /** For the timeout message: "pod toygres/orders-0 to be Ready". */
  what: string
  /** Seconds until the wait fails with WaitTimeoutError. */
  timeoutSeconds: number
  ctx: ActivityContext
  /** Collections whose changes may change the answer. */
  watch: Watched[]
  evaluate: () => Promise<Step<R>>
  /** Evaluate at least this often. */
  recheckMs?: number
}

/** The deadline passed; the message carries the last reason seen. Not retried: the wait had its whole budget. */
export class WaitTimeoutError extends PermanentProvisionerError {
  override name = 'WaitTimeoutError'
}

const RECHECK_MS = 2000
/**
 * The server ends each watch after this long and we open another. Below
 * client-node's 30 s inactivity timeout, so a quiet watch ends cleanly
 * instead of as an error.
 */
const WATCH_SECONDS = 25

/**
 * Evaluates `spec.evaluate` until it returns done (resolves with that value) or
 * fail (throws that error), again on every event of a watch on `spec.watch` and
 * at least every `spec.recheckMs` ms (default 2000). An error thrown by
 * evaluate is one more reason to wait unless its `retryable` is false. Throws
 * WaitTimeoutError (permanent) with the last reason once `spec.timeoutSeconds`
 * seconds have passed, and the signal's reason when ctx.signal aborts. Watches:
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
 */
export async function waitFor<R> (kc: KubeConfig, spec: WaitSpec<R>): Promise<R> {
  const { signal } = spec.ctx
  signal.throwIfAborted()
  const deadline = Date.now() + spec.timeoutSeconds * 1000
  const wake = new Wakeup()
  const stop = new AbortController()
  const stopped = AbortSignal.any([signal, stop.signal])
  for (const w of spec.watch) void keepWatching(kc, w, wake, stopped)
  let last = 'nothing observed yet'
  let reported: string | undefined
  try {
    for (;;) {
      wake.clear()
      const step = await evaluateOnce(spec.evaluate, signal)
      if ('done' in step) return step.done
      if ('fail' in step) throw step.fail
      last = step.waiting
      if (last !== reported) {
        reported = last
        spec.ctx.progress(last)
      }
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new WaitTimeoutError(`gave up after ${spec.timeoutSeconds} s waiting for ${spec.what}: ${last}`)
      await wake.wait(Math.min(remaining, spec.recheckMs ?? RECHECK_MS), signal)
      signal.throwIfAborted()
    }
  } finally {
    stop.abort()
  }
}

/** An API error during a wait is one more reason to wait (the API server may be restarting); a permanent one ends it. */
async function evaluateOnce<R> (evaluate: () => Promise<Step<R>>, signal: AbortSignal): Promise<Step<R>> {
  try {
    return await evaluate()
  } catch (err) {
    signal.throwIfAborted()
    if ((err as { retryable?: unknown }).retryable === false) throw err
    return { waiting: (err as Error).message ?? String(err) }
  }
}

/** Watches `w` until `stopped`, firing `wake` on every event; reopens a watch that ended. */
async function keepWatching (kc: KubeConfig, w: Watched, wake: Wakeup, stopped: AbortSignal): Promise<void> {
  while (!stopped.aborted) {
    const ended = await new Promise<unknown>(resolve => {
      const query = { fieldSelector: w.fieldSelector, labelSelector: w.labelSelector, timeoutSeconds: WATCH_SECONDS }
      let controller: AbortController | undefined
      const onStop = (): void => { controller?.abort(); resolve(null) }
      stopped.addEventListener('abort', onStop, { once: true })
      // Without a resourceVersion a watch starts with the current state (ADDED): one wake-up, harmless.
      new Watch(kc).watch(w.path, query, () => wake.fire(), err => {
        stopped.removeEventListener('abort', onStop)
        resolve(err ?? null)
      }).then(c => { controller = c; if (stopped.aborted) c.abort() }, err => {
        stopped.removeEventListener('abort', onStop)
        resolve(err)
      })
    })
    if (stopped.aborted) return
    // A watch that fails at once (no watch support, a proxy) must not spin; the re-check covers the gap.
    if (ended) await delay(1000, stopped)
  }
}

function delay (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** A level-triggered wake-up: a fire() while nobody waits is kept for the next wait(). */
class Wakeup {
  #pending = false
  #wakeNow: (() => void) | undefined

  fire (): void {
    this.#pending = true
    this.#wakeNow?.()
  }

  clear (): void { this.#pending = false }

  wait (ms: number, signal: AbortSignal): Promise<void> {
    if (this.#pending) return Promise.resolve()
    return new Promise(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.#wakeNow = undefined
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#wakeNow = done
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
