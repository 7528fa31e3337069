// A micro-cache for the status endpoint that many clients poll: concurrent
// requests for one key share one load, and its result serves for `ttlMs`
// more. Its owner invalidates a key when what it caches changes; a load
// under way when something changes is shared with those already waiting
// but not kept (it may have read the old rows).
export interface MicroCache<T> {
  get (key: string): Promise<T>
  invalidate (key: string): void
  /** Keeps no load now under way (each may have read what just changed); finished entries stay. */
  forgetLoading (): void
  /** Gets so far: served by a finished load (hits), by one in flight (joined), or that loaded (misses). */
  readonly stats: { hits: number, joined: number, misses: number }
}

export function createMicroCache<T> (ttlMs: number, load: (key: string) => Promise<T>, maxEntries = 10_000): MicroCache<T> {
  const entries = new Map<string, { value: Promise<T>, expires: number }>()
  const stats = { hits: 0, joined: 0, misses: 0 }
  return {
    stats,
    get (key) {
      const now = Date.now()
      const hit = entries.get(key)
      if (hit && hit.expires > now) {
        if (hit.expires === Number.POSITIVE_INFINITY) stats.joined++
        else stats.hits++
        return hit.value
      }
      stats.misses++
      if (entries.size >= maxEntries) entries.clear()
      const value = load(key)
      const entry = { value, expires: Number.POSITIVE_INFINITY }
      entries.set(key, entry)
      // The clock starts when the load ends; a failed load is not kept.
      value.then(() => { entry.expires = Date.now() + ttlMs }, () => { if (entries.get(key) === entry) entries.delete(key) })
      return value
    },
    invalidate (key) {
      entries.delete(key)
    },
    forgetLoading () {
      for (const [key, entry] of entries) if (entry.expires === Number.POSITIVE_INFINITY) entries.delete(key)
    }
  }
}
