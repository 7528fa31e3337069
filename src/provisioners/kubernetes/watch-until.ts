// Waits for one named object to reach a state: list (current state and a
// resourceVersion), then watch from that resourceVersion so a change is seen
// the moment it happens. When the watch ends (server timeout, dropped
// connection, 410 Gone) we list again, so nothing between the two is missed.
import { Watch, type KubeConfig } from '@kubernetes/client-node'
import { setTimeout as sleep } from 'node:timers/promises'

export interface WatchTarget<T> {
  /** Collection path, e.g. /api/v1/namespaces/toygres/pods */
  path: string
  name: string
  /** The object now (undefined when absent) and the list's resourceVersion. */
  read: () => Promise<{ object: T | undefined, resourceVersion: string | undefined }>
}

export type Verdict<R> = { done: R } | { fail: Error } | undefined

export interface WatchUntilOptions<T> {
  deadline: number
  signal: AbortSignal
  /** For the timeout message: what the object looked like last. */
  describe: (object: T | undefined) => string
  /**
   * The server ends each watch after this long and we list again. Below the
   * client's 30 s inactivity timeout, so a quiet watch ends cleanly instead
   * of as an error; it also bounds the cost of a silently dead connection.
   */
  resyncSeconds?: number
}

type Outcome<T, R> = { kind: 'verdict', verdict: NonNullable<Verdict<R>> } | { kind: 'ended', error?: unknown, last?: T | undefined } | { kind: 'stop' }

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError'
}

export async function watchUntil<T, R> (kc: KubeConfig, target: WatchTarget<T>, check: (o: T | undefined) => Verdict<R>, opts: WatchUntilOptions<T>): Promise<R> {
  let last: T | undefined
  for (;;) {
    opts.signal.throwIfAborted()
    const { object, resourceVersion } = await target.read()
    last = object
    const now = check(object)
    if (now) return settle(now)
    const remaining = opts.deadline - Date.now()
    if (remaining <= 0) throw new WaitTimeoutError(`timed out waiting for ${target.name}: ${opts.describe(last)}`)
    const outcome = await watchOnce<T, R>(kc, target, resourceVersion, check, remaining, opts)
    if (outcome.kind === 'verdict') return settle(outcome.verdict)
    if (outcome.kind === 'ended' && outcome.last !== undefined) last = outcome.last
    if (outcome.kind === 'ended' && outcome.error) {
      // A watch that fails at once (no watch support, proxy trouble) must not spin: fall back to a 1 s poll.
      await sleep(Math.min(1000, Math.max(0, opts.deadline - Date.now())), undefined, { signal: opts.signal })
        .catch(() => opts.signal.throwIfAborted())
    }
  }
}

function settle<R> (verdict: NonNullable<Verdict<R>>): R {
  if ('fail' in verdict) throw verdict.fail
  return verdict.done
}

function watchOnce<T, R> (kc: KubeConfig, target: WatchTarget<T>, resourceVersion: string | undefined, check: (o: T | undefined) => Verdict<R>, remaining: number, opts: WatchUntilOptions<T>): Promise<Outcome<T, R>> {
  return new Promise(resolve => {
    let controller: AbortController | undefined
    let finished = false
    let last: T | undefined
    const finish = (o: Outcome<T, R>): void => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      opts.signal.removeEventListener('abort', onAbort)
      controller?.abort()
      resolve(o)
    }
    const onAbort = (): void => finish({ kind: 'stop' })
    // On the deadline the caller lists once more and then reports the timeout.
    const timer = setTimeout(() => finish({ kind: 'ended', last }), remaining)
    // Aborted while we were listing: 'abort' will not fire again.
    if (opts.signal.aborted) return finish({ kind: 'stop' })
    opts.signal.addEventListener('abort', onAbort, { once: true })
    const query = {
      fieldSelector: `metadata.name=${target.name}`,
      resourceVersion,
      timeoutSeconds: Math.max(1, Math.min(Math.ceil(remaining / 1000), opts.resyncSeconds ?? 25))
    }
    new Watch(kc).watch(target.path, query, (type, object: T) => {
      if (type === 'ERROR') return finish({ kind: 'ended' }) // e.g. 410 Gone: our resourceVersion is too old
      if (type === 'BOOKMARK') return
      last = type === 'DELETED' ? undefined : object
      const verdict = check(last)
      if (verdict) finish({ kind: 'verdict', verdict })
    }, error => finish({ kind: 'ended', error, last }))
      .then(c => { controller = c; if (finished) c.abort() })
      .catch(error => finish({ kind: 'ended', error }))
  })
}
