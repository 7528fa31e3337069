// npm run migrate: applies pending migrations to DATABASE_URL (or the
// embedded database) and exits. The server also does this at start-up.
import { pino } from 'pino'
import { ConfigError, loadConfig } from '../config.ts'
import { startEmbeddedDatabase } from '../db/embedded.ts'
import { migrate } from '../db/migrate.ts'
import { loggerOptions, scrubUrls } from '../logging.ts'

try {
  const config = loadConfig(process.env)
  const logger = pino(loggerOptions(config.logLevel, process.stdout.isTTY))
  const embedded = config.databaseUrl ? undefined : await startEmbeddedDatabase({ dataDir: config.dataDir, port: config.embeddedDbPort, binDir: config.pgBinDir, logger })
  try {
    const applied = await migrate(config.databaseUrl ?? embedded!.url, logger)
    logger.info({ applied: applied.length }, applied.length ? 'migrations applied' : 'database is up to date')
  } finally {
    await embedded?.stop()
  }
} catch (err) {
  const message = err instanceof ConfigError ? err.message : scrubUrls(String((err as Error).message))
  process.stderr.write(`toygres: migrate failed: ${message}\n`)
  process.exit(1)
}
