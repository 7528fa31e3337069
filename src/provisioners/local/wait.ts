// Waits until an instance accepts connections: probes with backoff (10 ms
// doubling to 250 ms) until the deadline, stops at once on abort, and says
// why it is still waiting whenever that changes.
import { setTimeout as sleep } from 'node:timers/promises'
import { acceptsConnections } from './probe.ts'
import { livePid } from './server.ts'

/**
 * The instance did not accept connections by the deadline; the message says
 * whether a server process runs. retryable: the step's policy decides whether
 * to wait again (unlike Kubernetes' WaitTimeoutError, which is permanent).
 */
export class NotReadyError extends Error {
  override name = 'NotReadyError'
  readonly retryable = true
}

/** Resolves with the milliseconds it took; rejects with NotReadyError after `timeoutMs` ms, and when `signal` aborts. */
export async function waitUntilReady (port: number, pgdata: string, timeoutMs: number, signal: AbortSignal, progress: (reason: string) => void = () => {}): Promise<number> {
  const started = performance.now()
  const deadline = started + timeoutMs
  let said: string | undefined
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    signal.throwIfAborted()
    const result = await acceptsConnections(port, '127.0.0.1', Math.max(100, Math.min(2000, deadline - performance.now())), signal)
    signal.throwIfAborted()
    if (result.ready) return performance.now() - started
    const reason = result.reason === 'ECONNREFUSED' ? `nothing listens on 127.0.0.1:${port} yet (ECONNREFUSED)` : result.reason
    if (reason !== said) progress(said = reason)
    if (performance.now() + delay > deadline) {
      const pid = await livePid(pgdata)
      const process = pid === undefined ? 'no server process is running' : `server process ${pid} is running`
      throw new NotReadyError(`not accepting connections on 127.0.0.1:${port} after ${Math.round(timeoutMs / 1000)} s (${result.reason}; ${process})`)
    }
    await sleep(delay, undefined, { signal })
  }
}
