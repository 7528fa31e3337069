// What every command gets: the typed API client, how to write (a table or
// JSON; spinners and colours only for a person at a terminal), and the
// environment, read once here and passed down.
import { toygresClient, type ToygresClient } from '../client/index.ts'

export type OutputFormat = 'table' | 'json'

export interface GlobalOptions {
  url: string
  token?: string | undefined
  output: OutputFormat
}

export interface Ctx {
  readonly api: ToygresClient
  readonly url: string
  readonly json: boolean
  /** stderr is a terminal and the output is not JSON: spinners, colours, prompts. */
  readonly interactive: boolean
  readonly env: NodeJS.ProcessEnv
  /** One line (or block) to stdout: the result. */
  out (text: string): void
  /** One line to stderr: progress, notes, errors. */
  err (text: string): void
}

export interface Io {
  env: NodeJS.ProcessEnv
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
}

export function makeContext (opts: GlobalOptions, io: Io): Ctx {
  const json = opts.output === 'json'
  return {
    api: toygresClient({ baseUrl: opts.url, token: opts.token || undefined }),
    url: opts.url,
    json,
    // A terminal without a width (a pty nobody sized) cannot hold a spinner: ora would redraw endlessly.
    interactive: !json && io.stderr.isTTY === true && io.env.TERM !== 'dumb' && (io.stderr.columns ?? 0) > 0,
    env: io.env,
    out: text => { io.stdout.write(text.endsWith('\n') ? text : `${text}\n`) },
    err: text => { io.stderr.write(text.endsWith('\n') ? text : `${text}\n`) }
  }
}

/** Wraps a command's handler: positional arguments and options in, exit code out. */
export type Action = <A extends unknown[]> (handler: (ctx: Ctx, ...args: A) => Promise<number | void>) => (...args: unknown[]) => Promise<void>
