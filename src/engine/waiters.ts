// waitFor(): callers parked on an operation id, woken by the finish NOTIFY,
// with a short poll as the backstop when a notification is missed. A run
// that finishes in this process hands its waiters the operation as it
// committed it, so they need no read.
import type { Operation } from './types.ts'

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled'])
const BACKSTOP_POLL_MS = 250

export class Waiters {
  #waiting = new Map<string, Set<(finished?: Operation) => void>>()
  #runsHereBackstopMs: number

  /**
   * `runsHereBackstopMs`: how often a waiter whose operation runs in this
   * process reads it anyway. Its run wakes it when it ends; but a run here
   * that lost its lease (a zombie, cut off or paused) goes on until its next
   * write while another engine finishes the operation, and that finish's
   * NOTIFY is left to the run here. The engine passes its polling interval.
   */
  constructor (runsHereBackstopMs: number) {
    this.#runsHereBackstopMs = runsHereBackstopMs
  }

  /** Wakes the waiters of `operationId`: to read it, or with `finished`, the operation as its end committed it. */
  wake (operationId: string, finished?: Operation): void {
    for (const wake of this.#waiting.get(operationId) ?? []) wake(finished)
  }

  /**
   * Resolves with the operation once `read` finds it finished; rejects when
   * it does not exist or after `timeoutMs`. While `runsHere()` (its run is
   * in this process, and wakes it when it ends), it reads only every
   * `runsHereBackstopMs`, and not first. A wake that brings the finished
   * operation resolves with it, unread.
   */
  async wait (operationId: string, read: () => Promise<Operation | null>, timeoutMs: number, runsHere: () => boolean = () => false): Promise<Operation> {
    const deadline = Date.now() + timeoutMs
    let skipRead = runsHere()
    for (;;) {
      let timer: NodeJS.Timeout | undefined
      let wake: (finished?: Operation) => void = () => {}
      const woken = new Promise<Operation | undefined>(resolve => { wake = resolve })
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
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`operation ${operationId} still ${op?.status ?? 'running'} after waiting ${timeoutMs} ms`)
        // A run here wakes its waiters when it ends (runner.ts): the backstop is only for a zombie run here.
        const poll = Math.min(runsHere() ? this.#runsHereBackstopMs : BACKSTOP_POLL_MS, left)
        skipRead = false
        const finished = await Promise.race([woken, new Promise<undefined>(resolve => { timer = setTimeout(() => resolve(undefined), poll) })])
        // Each waiter its own copy, as a read gives each its own object.
        if (finished && TERMINAL.has(finished.status)) return structuredClone(finished)
      } finally {
        clearTimeout(timer)
        set.delete(wake)
        if (set.size === 0) this.#waiting.delete(operationId)
      }
    }
  }
}
