// Follows an instance's event stream until the caller has its answer: each
// event goes to `onEvent`; a dropped connection is resumed after the last
// event seen (Last-Event-ID), so nothing is missed or seen twice. `check`
// asks the API directly (GET): when the stream ends early (the instance was
// removed, the server restarts), when it cannot be reached, and every
// `checkEveryMs` as a backstop. `timeoutMs` bounds the whole wait.
import { setTimeout as sleep } from 'node:timers/promises'
import { ProblemError, streamEvents, type StreamEvent } from '../client/index.ts'
import type { Ctx } from './context.ts'

export interface FollowOptions<T> {
  onEvent (event: StreamEvent): T | undefined | Promise<T | undefined>
  check (): Promise<T | undefined>
  timeoutMs?: number | undefined
  /** Milliseconds between backstop checks; 0: none (default 5000). */
  checkEveryMs?: number
  /** Start after this event id; omitted: from the instance's first event. */
  since?: string | undefined
  /** How long the API may stay unreachable before the wait gives up (default 30 s). */
  unreachableMs?: number
}

export type Followed<T> = { done: T } | { timedOut: true }

const RECONNECT_MS = 1000

export async function follow<T> (ctx: Ctx, name: string, opts: FollowOptions<T>): Promise<Followed<T>> {
  const stop = new AbortController()
  const timer = opts.timeoutMs ? setTimeout(() => stop.abort(), opts.timeoutMs) : undefined
  let found: { value: T } | undefined
  const settle = (value: T): void => { found ??= { value }; stop.abort() }

  let checking = false
  const every = opts.checkEveryMs ?? 5000
  const backstop = every > 0 ? setInterval(() => {
    if (checking || stop.signal.aborted) return
    checking = true
    opts.check().then(v => { if (v !== undefined) settle(v) }, () => {}).finally(() => { checking = false })
  }, every) : undefined

  let lastEventId = opts.since
  // Since when the stream keeps failing (null: it is fine): a long quiet stream that drops is retried like any other.
  let failingSince: number | null = null
  try {
    while (!stop.signal.aborted) {
      try {
        for await (const event of streamEvents(ctx.api.options, `/instances/${encodeURIComponent(name)}/events`, { lastEventId, signal: stop.signal })) {
          failingSince = null
          lastEventId = event.id
          const v = await opts.onEvent(event)
          if (v !== undefined) { settle(v); break }
        }
        if (stop.signal.aborted) break
        failingSince = null
      } catch (err) {
        if (stop.signal.aborted) break
        if (err instanceof ProblemError) {
          // Refused (404: the instance is gone): what it means is the caller's to say.
          const v = await opts.check()
          if (v !== undefined) { settle(v); break }
          throw err
        }
        failingSince ??= Date.now()
        if (Date.now() - failingSince > (opts.unreachableMs ?? 30_000)) throw err
      }
      // The stream ended or dropped without an answer: ask directly, then resume.
      const v = await opts.check().catch(err => {
        if (err instanceof ProblemError) throw err
        return undefined
      })
      if (v !== undefined) { settle(v); break }
      await sleep(RECONNECT_MS, undefined, { signal: stop.signal }).catch(() => {})
    }
  } finally {
    clearTimeout(timer)
    clearInterval(backstop)
    stop.abort()
  }
  return found ? { done: found.value } : { timedOut: true }
}
