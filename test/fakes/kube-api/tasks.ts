// The fake's control loops run as tracked async tasks, so close() can stop
// them and wait for them: sleeps end with Closed, errors are reported once.
import type { Store, WatchEvent } from './store.ts'
import { Closed } from './util.ts'

export class Tasks {
  closed = false
  /** Aborted when the fake closes: long waits race against it. */
  readonly closing = new AbortController()
  readonly #running = new Set<Promise<unknown>>()
  readonly #sleepers = new Set<() => void>()
  readonly #store: Store
  constructor (store: Store) { this.#store = store }

  /** Runs `fn` detached; a Closed rejection is the normal end. */
  run (what: string, fn: () => unknown): void {
    if (this.closed) return
    const p = Promise.resolve().then(fn).catch((err: unknown) => {
      if (err instanceof Closed || this.closed) return
      process.stderr.write(`fake kube-api: ${what}: ${(err as Error)?.stack ?? String(err)}\n`)
    })
    this.#running.add(p)
    void p.finally(() => this.#running.delete(p))
  }

  /** Resolves after `ms`, or early when `signal` aborts; rejects with Closed when the fake closes. */
  sleep (ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new Closed())
    return new Promise((resolve, reject) => {
      const done = (): void => { clearTimeout(timer); this.#sleepers.delete(onClose); signal?.removeEventListener('abort', done); resolve() }
      const onClose = (): void => { clearTimeout(timer); signal?.removeEventListener('abort', done); reject(new Closed()) }
      const timer = setTimeout(done, Math.max(0, ms))
      this.#sleepers.add(onClose)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  /** Resolves on the next store change that `interesting` accepts, or after `ms` (a resync). */
  change (ms: number, interesting: (e: WatchEvent) => boolean = () => true, signal?: AbortSignal): Promise<void> {
    const ac = new AbortController()
    const stop = this.#store.subscribe(this.#store.resourceVersion, e => { if (interesting(e)) ac.abort() })
    const onAbort = (): void => ac.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    return this.sleep(ms, ac.signal).finally(() => { stop(); signal?.removeEventListener('abort', onAbort) })
  }

  async close (): Promise<void> {
    this.closed = true
    this.closing.abort()
    for (const wake of [...this.#sleepers]) wake()
    while (this.#running.size > 0) await Promise.allSettled([...this.#running])
  }
}
