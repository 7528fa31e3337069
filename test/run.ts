// `npm test`: runs the suite against a real PostgreSQL. TEST_DATABASE_URL or
// DATABASE_URL when given; otherwise a throwaway embedded server started here.
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinaries, postgresRunAs } from '../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster } from '../src/postgres/cluster.ts'
import { freePort } from './helpers/ports.ts'

let adminUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
let cleanup = async (): Promise<void> => {}

if (!adminUrl) {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-test-db-'))
  await chmod(dir, 0o755) // the postgres OS user must be able to enter it
  const cluster = { binaries: findBinaries(), runAs: postgresRunAs(), dataDir: join(dir, 'pgdata') }
  const port = await freePort()
  await initCluster(cluster, 'toygres-test', ['--no-sync'])
  await configureCluster(cluster, { port, host: '127.0.0.1' })
  await startCluster(cluster)
  adminUrl = `postgresql://postgres:toygres-test@127.0.0.1:${port}/postgres`
  process.stdout.write(`# no TEST_DATABASE_URL: using an embedded PostgreSQL on port ${port}\n`)
  cleanup = async () => {
    await stopCluster(cluster, 'immediate')
    await rm(dir, { recursive: true, force: true })
  }
}

// A directory argument means every *.test.ts under it (tap's own filter only
// takes files when `include` is configured).
const args = (await Promise.all(process.argv.slice(2).map(async arg => {
  if (arg.startsWith('-') || !(await stat(arg).catch(() => null))?.isDirectory()) return [arg]
  return (await readdir(arg, { recursive: true })).filter(f => f.endsWith('.test.ts')).map(f => join(arg, f)).sort()
}))).flat()

const tap = spawn('tap', args, {
  stdio: ['inherit', 'pipe', 'inherit'],
  env: { ...process.env, TOYGRES_TEST_ADMIN_URL: adminUrl }
})
let summary = ''
tap.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  const match = /# \{ total: (\d+)[^}]*\}/.exec(chunk.toString())
  if (match) summary = match[0]
})
const code = await new Promise<number>(resolve => tap.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))))
await cleanup()
// The plain closing line CI understands in any language.
const count = (key: string): number => Number(new RegExp(`${key}: (\\d+)`).exec(summary)?.[1] ?? 0)
if (summary) process.stdout.write(`${count('pass')} passed, ${count('fail')} failed, ${count('skip') + count('todo')} skipped\n`)
process.exit(code)
