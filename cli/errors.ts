// Exit codes and the one place an error becomes a message. A person sees the
// problem's title and detail (and its field errors), never a stack.
import { ProblemError } from '../client/index.ts'

export const EXIT = { ok: 0, failed: 1, usage: 2, api: 3, timeout: 4, interrupted: 130 } as const

/** An error the CLI raises itself, with the exit code it means. */
export class CliError extends Error {
  override name = 'CliError'
  readonly exitCode: number
  constructor (message: string, exitCode: number) {
    super(message)
    this.exitCode = exitCode
  }
}

export const usage = (message: string): CliError => new CliError(message, EXIT.usage)

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT'])

/** fetch's "fetch failed" names its cause (or causes, one per address tried). */
function networkCode (err: unknown): string | undefined {
  for (let e = err as { code?: string, cause?: unknown, errors?: unknown[] } | undefined; e; e = e.cause as typeof e) {
    if (e.code && UNREACHABLE.has(e.code)) return e.code
    const inner = e.errors?.map(networkCode).find(Boolean)
    if (inner) return inner
  }
  return undefined
}

/** What to print (without the "toygres: " prefix) and the exit code. */
export function describeError (err: unknown, opts: { apiUrl: string, debug: boolean }): { message: string, exitCode: number } {
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode }
  if (err instanceof ProblemError) {
    const { title, detail, errors } = err.problem
    const fields = (errors ?? []).map(e => `\n  ${e.field}: ${e.message}`).join('')
    return { message: `${title}: ${detail}${fields}`, exitCode: EXIT.api }
  }
  const code = networkCode(err)
  const fetchFailed = err instanceof TypeError && err.message === 'fetch failed'
  if (code || fetchFailed) {
    const why = code ?? ((err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : 'fetch failed')
    return {
      message: `the API at ${opts.apiUrl} is not reachable (${why}).\n` +
        'Start it with `npx toygres server` (or `npm start`) in the Toygres clone, or point --url / TOYGRES_URL at a running one.',
      exitCode: EXIT.api
    }
  }
  // A bug of ours: the stack helps whoever reports it (TOYGRES_DEBUG=1 shows it).
  const message = err instanceof Error ? (opts.debug ? err.stack ?? err.message : err.message) : String(err)
  return { message: `unexpected error: ${message}`, exitCode: EXIT.failed }
}
