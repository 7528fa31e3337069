// Builds the real app (real database, real plugins) for inject()-style tests.
import Fastify, { type FastifyInstance } from 'fastify'
import app, { serverOptions } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { createTestDatabase } from './db.ts'

interface TestLike { teardown (fn: () => unknown): void }

export async function buildTestApp (t: TestLike, env: Record<string, string> = {}, databaseUrl?: string): Promise<FastifyInstance> {
  const url = databaseUrl ?? await createTestDatabase(t)
  const config = loadConfig({ LOG_LEVEL: 'silent', TOYGRES_WORKER_CONCURRENCY: '0', ...env })
  const fastify = Fastify({ ...serverOptions, logger: { level: config.logLevel } })
  await fastify.register(app, { config, databaseUrl: url })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}
