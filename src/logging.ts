// pino options shared by the server and the CLIs. Secrets are removed twice:
// by path (fields we know), and by pattern (credentials inside URLs).
import type { BaseLogger, LoggerOptions } from 'pino'
import { stdSerializers } from 'pino'

/**
 * The one logger type below the HTTP layer: what pino's Logger and Fastify's
 * request/app loggers all are (level methods, and child loggers).
 */
export interface Logger extends Pick<BaseLogger, 'level' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'> {
  child (bindings: Record<string, unknown>): Logger
}

const CREDENTIALS_IN_URL = /(postgres(?:ql)?:\/\/[^:/?#@\s]*):[^@/?#\s]*@/gi

/** Replaces the password of any postgres:// URL in `text` with `***`. */
export function scrubUrls (text: string): string {
  return text.replace(CREDENTIALS_IN_URL, '$1:***@')
}

const redactPaths = [
  'password', '*.password', '*.*.password',
  'databaseUrl', '*.databaseUrl', 'connectionString', '*.connectionString',
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization'
]

const STACK_LINES = 8

/**
 * An error as a log line carries it: type, message, code, a few stack frames
 * and its causes' messages; never the whole object (driver errors carry
 * dozens of fields, some with the statement or its parameters). Credentials
 * inside URLs are scrubbed.
 */
export function serializeError (err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: scrubUrls(String(err)) }
  const full = stdSerializers.err(err)
  const out: Record<string, unknown> = { type: full.type, message: scrubUrls(full.message) }
  const { code, routine } = err as { code?: unknown, routine?: unknown }
  if (typeof code === 'string') out.code = code
  if (typeof routine === 'string') out.routine = routine
  if (full.stack) out.stack = scrubUrls(full.stack.split('\n').slice(0, STACK_LINES).join('\n'))
  const causes: string[] = []
  for (let c = err.cause, depth = 0; c && depth < 3; c = (c as { cause?: unknown }).cause, depth++) {
    causes.push(scrubUrls(c instanceof Error ? c.message : String(c)))
  }
  if (causes.length) out.causes = causes
  return out
}

export function loggerOptions (level: string, pretty = false): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '***' },
    serializers: { err: serializeError },
    // Messages are text too: a URL with credentials in one is scrubbed like any other.
    hooks: {
      logMethod (args, method) {
        for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = scrubUrls(args[i] as string)
        method.apply(this, args as Parameters<typeof method>)
      }
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
