// waitFor(): callers parked on an operation id, woken by the finish NOTIFY,
// with a short poll as the backstop when a notification is missed.
import type { Operation } from './types.ts'

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])
const BACKSTOP_POLL_MS = 250

export class Waiters {
  #waiting = new Map<string, Set<() => void>>()

  wake (operationId: string): void {
    for (const wake of this.#waiting.get(operationId) ?? []) wake()
  }

  /**
   * Resolves with the operation once `read` finds it finished; rejects when
   * it does not exist or after `timeoutMs`. With `runsHere` (its run is in
   * this process, and wakes it when it ends), the first read waits for a wake.
   */
  async wait (operationId: string, read: () => Promise<Operation | null>, timeoutMs: number, runsHere = false): Promise<Operation> {
    const deadline = Date.now() + timeoutMs
    let skipRead = runsHere
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      let wake: () => void = () => {}
      const woken = new Promise<void>(resolve => { wake = resolve })
      const set = this.#waiting.get(operationId) ?? new Set()
      this.#waiting.set(operationId, set.add(wake))
      try {
        // Registered before reading, so a finish between the read and the wait is not missed.
        let op: Operation | null = null
        if (!skipRead) {
          op = await read()
          if (!op) throw new Error(`operation ${operationId} does not exist`)
          if (TERMINAL.has(op.status)) return op
        }
        skipRead = false
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`operation ${operationId} still ${op?.status ?? 'running'} after waiting ${timeoutMs} ms`)
        await Promise.race([woken, new Promise<void>(resolve => { timer = setTimeout(resolve, Math.min(BACKSTOP_POLL_MS, left)) })])
      } finally {
        clearTimeout(timer)
        set.delete(wake)
        if (set.size === 0) this.#waiting.delete(operationId)
      }
    }
  }
}
