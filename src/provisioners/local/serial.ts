// Runs calls for the same key one after another (in this process). Across
// processes the provisioner relies on atomic link/symlink/rename instead.
export interface KeyedQueue {
  /** Runs `fn` once every earlier call with the same `key` has settled; resolves or rejects as `fn` does. */
  run<T> (key: string, fn: () => Promise<T>): Promise<T>
}

/**
 * An empty KeyedQueue. A call that fails does not hold up the next; a key is
 * forgotten once its calls are done.
 */
export function createKeyedQueue (): KeyedQueue {
  const tails = new Map<string, Promise<unknown>>()
  return {
    run (key, fn) {
      const result = (tails.get(key) ?? Promise.resolve()).then(fn)
      const tail = result.catch(() => {}) // one failure must not block the next call
      tails.set(key, tail)
      void tail.then(() => { if (tails.get(key) === tail) tails.delete(key) })
      return result
    }
  }
}
