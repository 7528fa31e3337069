// Waits for a real condition (not a fixed sleep): polls `probe` until it
// returns a value that `done` accepts, or fails with the last value seen.
export async function pollUntil<T> (probe: () => Promise<T>, done: (value: T) => boolean, opts: { timeoutMs?: number, intervalMs?: number, what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
  let last: T
  for (;;) {
    last = await probe()
    if (done(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}; last value: ${JSON.stringify(last)}`)
    await new Promise(resolve => setTimeout(resolve, opts.intervalMs ?? 100))
  }
}
