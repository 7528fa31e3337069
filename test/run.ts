// `npm test`: runs the suite against a real PostgreSQL. TEST_DATABASE_URL or
// DATABASE_URL when given; otherwise a throwaway embedded server started here.
import { spawn } from 'node:child_process'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { startThrowawayCluster } from './helpers/throwaway-cluster.ts'

let adminUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
let cleanup = async (): Promise<void> => {}

if (!adminUrl) {
  const server = await startThrowawayCluster('toygres-test-db-', 'toygres-test')
  adminUrl = server.url
  process.stdout.write(`# no TEST_DATABASE_URL: using an embedded PostgreSQL on port ${server.port}\n`)
  cleanup = () => server.stop()
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
