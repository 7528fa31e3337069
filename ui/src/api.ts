// The dashboard's one door to the control plane: the typed client generated
// from the OpenAPI document (client/), with the user's token from session
// storage (never a URL). A 401 anywhere sends the user back to the login.
import { pages, ProblemError, streamEvents, toygresClient, unwrap, type ClientOptions, type StreamEvent, type ToygresClient } from '../../client/index.ts'

export { pages, ProblemError, unwrap }
export type { Instance, Operation, Problem, Schemas, StreamEvent, paths } from '../../client/index.ts'

const TOKEN_KEY = 'toygres.token'
const listeners = new Set<() => void>()

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set (value: string): void { sessionStorage.setItem(TOKEN_KEY, value); rebuild() },
  clear (): void { sessionStorage.removeItem(TOKEN_KEY); rebuild() }
}

/** Called when the API answers 401: the token is missing, wrong or was rotated. */
export function onUnauthorized (fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

const watchedFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init)
  if (res.status === 401) for (const fn of listeners) fn()
  return res
}

let options: ClientOptions
let client: ToygresClient
function rebuild (): void {
  options = { baseUrl: location.origin, token: token.get() ?? undefined, fetch: watchedFetch }
  client = toygresClient(options)
}
rebuild()

export const api = (): ToygresClient => client

/** Checks a token against the API without keeping it: true when it is accepted. */
export async function tokenWorks (candidate: string | null): Promise<boolean> {
  const probe = toygresClient({ baseUrl: location.origin, token: candidate ?? undefined })
  const { response } = await probe.GET('/instances', { params: { query: { limit: 1 } } })
  if (response.status === 401) return false
  if (!response.ok) throw new Error(`the API answered ${response.status} ${response.statusText}`)
  return true
}

/**
 * Follows an event stream, resuming after the last event it saw when the
 * connection drops. Stops on `stop()`, on a 4xx (after telling `onError`),
 * or when the server ends the stream and `untilEnd` is set.
 */
export function follow (path: string, onEvent: (e: StreamEvent) => void, opts: { untilEnd?: boolean, onOpen?: () => void, onError?: (err: ProblemError) => void, onReconnect?: () => void } = {}): () => void {
  const stop = new AbortController()
  let last: string | undefined
  // A stream may stay silent until something happens: it is open when its response starts.
  const opening: typeof fetch = async (input, init) => {
    const res = await watchedFetch(input, init)
    if (res.ok) opts.onOpen?.()
    return res
  }
  void (async () => {
    let delay = 1000
    for (let attempt = 0; !stop.signal.aborted; attempt++) {
      if (attempt > 0) opts.onReconnect?.()
      try {
        for await (const e of streamEvents({ ...options, fetch: opening }, path, { lastEventId: last, signal: stop.signal })) {
          last = e.id
          delay = 1000
          onEvent(e)
        }
        if (opts.untilEnd) return
      } catch (err) {
        if (stop.signal.aborted) return
        if (err instanceof ProblemError && err.problem.status < 500) {
          if (err.problem.status === 401) for (const fn of listeners) fn()
          opts.onError?.(err)
          return
        }
      }
      await new Promise(resolve => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 15_000)
    }
  })()
  return () => stop.abort()
}

/** A problem's words for a person: its detail, else its title. */
export function describe (err: unknown): string {
  if (err instanceof ProblemError) return err.problem.detail || err.problem.title
  if (err instanceof Error) return err.message === 'Failed to fetch' ? 'The control plane did not answer. Is it running?' : err.message
  return String(err)
}
