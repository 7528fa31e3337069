// Builds the real app (real database, real plugins) for inject()-style tests.
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Writable } from 'node:stream'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { pino } from 'pino'
import app, { serverOptions } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { loggerOptions } from '../../src/logging.ts'
import { postmasterPid } from '../../src/postgres/cluster.ts'
import { createTestDatabase } from './db.ts'

interface TestLike { teardown (fn: () => unknown): void }

export interface TestAppOptions {
  databaseUrl?: string
  /** Receives every log line (JSON), at LOG_LEVEL (default info when a stream is given). */
  logStream?: Writable
}

export async function buildTestApp (t: TestLike, env: Record<string, string> = {}, opts: TestAppOptions = {}): Promise<FastifyInstance> {
  const url = opts.databaseUrl ?? await createTestDatabase(t)
  const config = loadConfig({ LOG_LEVEL: opts.logStream ? 'info' : 'silent', TOYGRES_WORKER_CONCURRENCY: '0', ...env })
  const fastify: FastifyInstance = opts.logStream
    ? Fastify({ ...serverOptions, loggerInstance: pino(loggerOptions(config.logLevel), opts.logStream) as FastifyBaseLogger })
    : Fastify({ ...serverOptions, logger: { level: config.logLevel } })
  await fastify.register(app, { config, databaseUrl: url })
  await fastify.ready()
  t.teardown(() => fastify.close())
  return fastify
}

/**
 * Environment for the local provisioner in a test: a data directory the
 * postgres OS user can enter, and a port range of its own so test files
 * running in parallel never reach for the same ports.
 */
export async function localProvisionerEnv (t: TestLike): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-local-'))
  await chmod(dir, 0o755)
  t.teardown(async () => {
    await killServersUnder(dir)
    await rm(dir, { recursive: true, force: true })
  })
  const base = 28000 + Math.floor(Math.random() * 200) * 20
  return { TOYGRES_DATA_DIR: dir, TOYGRES_LOCAL_PORT_MIN: String(base), TOYGRES_LOCAL_PORT_MAX: String(base + 19) }
}

/** Stops any PostgreSQL server a failed test left running under `dir`. */
export async function killServersUnder (dir: string): Promise<void> {
  const files = await readdir(dir, { recursive: true }).catch(() => [] as string[])
  for (const file of files.filter(f => f.endsWith('postmaster.pid'))) {
    const pid = await postmasterPid(join(dir, dirname(file)))
    if (pid === undefined) continue
    try { process.kill(pid, 'SIGKILL') } catch {}
  }
}
