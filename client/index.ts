// The typed Toygres API client: the CLI, the dashboard and tests share it,
// and it cannot drift from the API, because its types are generated from
// openapi/openapi.json (client/schema.ts, `npm run openapi`; a test fails
// when either is stale). openapi-fetch does the requests; eventsource-parser
// reads the event streams (EventSource cannot send an Authorization header).
import createClient, { type Client } from 'openapi-fetch'
import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { components, paths } from './schema.ts'

export type { components, paths } from './schema.ts'
export type Schemas = components['schemas']
export type Instance = Schemas['Instance']
export type Operation = Schemas['Operation']
export type Problem = Schemas['Problem']

export interface ClientOptions {
  /** e.g. http://127.0.0.1:3000 */
  baseUrl: string
  /** TOYGRES_API_TOKEN, when the server has one. */
  token?: string | undefined
  fetch?: typeof fetch
}

export type ToygresClient = Client<paths> & { readonly options: ClientOptions }

export function toygresClient (options: ClientOptions): ToygresClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) })
  if (options.token) {
    const token = options.token
    client.use({ onRequest ({ request }) { request.headers.set('authorization', `Bearer ${token}`); return request } })
  }
  return Object.assign(client, { options })
}

/** An RFC 9457 problem the API answered with, as an error: its title and detail, never a stack. */
export class ProblemError extends Error {
  override name = 'ProblemError'
  readonly problem: Problem
  constructor (problem: Problem) {
    super(`${problem.title}: ${problem.detail}`)
    this.problem = problem
  }
}

/** The data of a response, or a ProblemError for an error response. */
export function unwrap<T> (result: { data?: T, error?: unknown, response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const e = result.error as Partial<Problem> | undefined
    throw new ProblemError({
      type: e?.type ?? 'about:blank',
      title: e?.title ?? result.response.statusText,
      status: e?.status ?? result.response.status,
      detail: e?.detail ?? `HTTP ${result.response.status}`,
      ...(e?.errors ? { errors: e.errors } : {})
    })
  }
  return result.data as T
}

/**
 * The pages of a list, in order: each page's `next_cursor` is passed back as
 * `cursor` for the next (GET /instances, /operations,
 * /instances/{name}/operations, /instances/{name}/health), until a page
 * has none. `fetchPage` gets the query to add (`{}` for the first page);
 * stop early with `break`.
 */
export async function * pages<P extends { next_cursor: string | null }> (fetchPage: (after: { cursor?: string }) => Promise<P>): AsyncGenerator<P> {
  let after: { cursor?: string } = {}
  for (;;) {
    const page = await fetchPage(after)
    yield page
    if (page.next_cursor === null) return
    after = { cursor: page.next_cursor }
  }
}

export interface StreamEvent {
  /** The cursor after this event: pass it as lastEventId to resume after it. */
  id: string
  event: string
  data: any
}

/**
 * Follows an event stream (`/instances/{name}/events`, `/events`), yielding
 * events until the server ends the stream or `signal` aborts. Throws a
 * ProblemError when the API refuses the stream.
 */
export async function * streamEvents (options: ClientOptions, path: string, opts: { lastEventId?: string | undefined, signal?: AbortSignal } = {}): AsyncGenerator<StreamEvent> {
  const headers: Record<string, string> = { accept: 'text/event-stream' }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  if (opts.lastEventId) headers['last-event-id'] = opts.lastEventId
  const res = await (options.fetch ?? fetch)(new URL(path, options.baseUrl), { headers, ...(opts.signal ? { signal: opts.signal } : {}) })
  if (!res.ok || !res.body) {
    const problem = await res.json().catch(() => undefined) as Problem | undefined
    throw new ProblemError(problem ?? { type: 'about:blank', title: res.statusText, status: res.status, detail: `HTTP ${res.status}` })
  }
  const events = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream())
  for await (const e of events as unknown as AsyncIterable<{ id?: string, event?: string, data: string }>) {
    yield { id: e.id ?? '', event: e.event ?? 'message', data: JSON.parse(e.data) }
  }
}
