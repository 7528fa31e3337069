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

export function loggerOptions (level: string, pretty = false): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '***' },
    serializers: {
      err: (err: Error) => {
        const out = stdSerializers.err(err)
        out.message = scrubUrls(out.message)
        if (out.stack) out.stack = scrubUrls(out.stack)
        return out
      }
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
