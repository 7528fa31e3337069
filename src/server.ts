// Entry point: validate config, resolve the database, listen, shut down with
// grace. Everything else lives in app.ts.
import closeWithGrace from 'close-with-grace'
import Fastify from 'fastify'
import { pino } from 'pino'
import app, { serverOptions } from './app.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { startEmbeddedDatabase, type EmbeddedDatabase } from './db/embedded.ts'
import { loggerOptions, scrubUrls } from './logging.ts'

let config: Config
try {
  config = loadConfig(process.env)
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  process.stderr.write(`toygres: ${err.message}\n`)
  process.exit(78) // EX_CONFIG
}

const logger = pino(loggerOptions(config.logLevel, process.stdout.isTTY))
let embedded: EmbeddedDatabase | undefined

async function main (cfg: Config): Promise<void> {
  if (!cfg.databaseUrl) {
    embedded = await startEmbeddedDatabase({ dataDir: cfg.dataDir, port: cfg.embeddedDbPort, binDir: cfg.pgBinDir, logger })
  }
  const databaseUrl = cfg.databaseUrl ?? embedded!.url
  const fastify = Fastify({
    ...serverOptions,
    loggerInstance: logger,
    forceCloseConnections: 'idle',
    requestTimeout: cfg.requestTimeoutSeconds * 1000,
    http: { ...serverOptions.http, headersTimeout: Math.min(serverOptions.http.headersTimeout, cfg.requestTimeoutSeconds * 1000) }
  })
  await fastify.register(app, { config: cfg, databaseUrl })

  closeWithGrace({ delay: cfg.shutdownGraceMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error')
    else logger.info({ signal }, 'shutting down')
    await fastify.close()
    await embedded?.stop()
  })

  await fastify.listen({ port: cfg.port, host: cfg.host })
}

/** What failed, and what to do about it, in one line. */
function startFailure (err: Error & { code?: string, port?: number, address?: string }, cfg: Config): string {
  if (err.code === 'EADDRINUSE' && err.port === cfg.port) {
    return `port ${cfg.port} on ${cfg.host} is in use: set PORT to a free port, or stop what listens there`
  }
  if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${cfg.host}: it is not an address of this machine; set HOST`
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : ''
  return `${err.message}${cause}`
}

main(config).catch(async (err: Error) => {
  // One clear line, not a stack trace loop: the usual causes are a wrong
  // DATABASE_URL or a port in use.
  logger.debug({ err }, 'failed to start')
  process.stderr.write(`toygres: failed to start: ${scrubUrls(startFailure(err, config))}\n`)
  await embedded?.stop().catch(() => {})
  process.exit(1)
})
