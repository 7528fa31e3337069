// Runs calls for the same key one after another (in this process). Across
// processes the provisioner relies on atomic link/symlink/rename instead.
export interface KeyedQueue {
  run<T> (key: string, fn: () => Promise<T>): Promise<T>
}

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
