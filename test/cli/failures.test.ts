// How the CLI fails: an operation that fails exits 1 naming the step and the
// reason; an API problem exits 3 with its title, detail and field errors
// (never a stack); an API that is not there says how to start one; usage
// errors exit 2; a token is sent when given.
import { createServer, type Server } from 'node:net'
import t from 'tap'
import { freePort } from '../helpers/ports.ts'
import { startApi, toygres } from './helpers.ts'

const TOKEN = 'a-cli-test-token-of-16+'

/** Holds 127.0.0.1:port until the test ends, so no instance can have it. */
async function hold (t: { teardown (fn: () => unknown): void }): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return (server.address() as { port: number }).port
}

t.test('a create whose operation fails: exit 1 with the failing step and why', async t => {
  const port = await hold(t)
  // The provisioner's only port is taken: deploy-postgres cannot place the server.
  const { url } = await startApi(t, { TOYGRES_LOCAL_PORT_MIN: String(port), TOYGRES_LOCAL_PORT_MAX: String(port) })
  const env = { TOYGRES_URL: url }

  const run = await toygres(['create', 'doomed', '--wait'], { env })
  t.equal(run.code, 1, run.stderr)
  t.equal(run.stdout, '', 'no connection string')
  t.match(run.stderr, new RegExp(`^✖ deploy-postgres( \\S+)?: no free port left in ${port}-${port}`, 'm'), 'the failed step\'s line')
  t.match(run.stderr, new RegExp(`^toygres: creating doomed failed at deploy-postgres: no free port left in ${port}-${port}`, 'm'), 'the last word: step and reason')
  t.notMatch(run.stderr, /\n\s+at /, 'no stack')

  const json = await toygres(['create', 'doomed-too', '--wait', '-o', 'json'], { env })
  t.equal(json.code, 1)
  t.match(JSON.parse(json.stdout), { name: 'doomed-too', state: 'failed', error: { step: /deploy-postgres/, message: /no free port/ } }, 'the failed instance as one document')

  const waited = await toygres(['wait', 'doomed', '--for', 'running'], { env })
  t.equal(waited.code, 1)
  t.match(waited.stderr, /^toygres: doomed will not be running: it is failed at deploy-postgres: .*no free port left/)
})

t.test('API problems: exit 3 with title, detail and field errors', async t => {
  const { app, url } = await startApi(t, { TOYGRES_API_TOKEN: TOKEN })
  const env = { TOYGRES_URL: url, TOYGRES_API_TOKEN: TOKEN }
  const available = await app.provisioner.supportedVersions()
  const missing = ['15', '16', '17', '18'].find(v => !available.includes(v))!

  const version = await toygres(['create', 'old', '--version', missing], { env })
  t.equal(version.code, 3)
  t.match(version.stderr, new RegExp(`^toygres: PostgreSQL version not available: PostgreSQL ${missing} is not available on the local provisioner; available: ${available.join(', ')}`))
  t.match(version.stderr, /\n {2}body\.postgres_version: must be one of /, 'the field error')
  t.notMatch(version.stderr, /\n\s+at /, 'no stack')

  const invalid = await toygres(['create', 'Not_A_Name'], { env })
  t.equal(invalid.code, 3)
  t.match(invalid.stderr, /^toygres: Request validation failed: .*\n {2}body\.name: /)

  const anonymous = await toygres(['list', '--url', url], {})
  t.equal(anonymous.code, 3, 'without the token')
  t.match(anonymous.stderr, /^toygres: Unauthorized: /)
  t.equal((await toygres(['list', '--token', TOKEN], { env: { TOYGRES_URL: url } })).code, 0, '--token')
  t.equal((await toygres(['list'], { env })).code, 0, 'TOYGRES_API_TOKEN')
})

t.test('no API there: how to start one', async t => {
  const port = await freePort()
  const run = await toygres(['list'], { env: { TOYGRES_URL: `http://127.0.0.1:${port}` } })
  t.equal(run.code, 3)
  t.match(run.stderr, new RegExp(`^toygres: the API at http://127\\.0\\.0\\.1:${port} is not reachable \\(ECONNREFUSED\\)\\.\\nStart it with \`npx toygres server\` \\(or \`npm start\`\\)`))
  const defaulted = await toygres(['get', 'x', '--url', `http://127.0.0.1:${port}`])
  t.match(defaulted.stderr, /is not reachable/)
})

t.test('usage errors: exit 2', async t => {
  for (const args of [['create'], ['list', '-o', 'yaml'], ['wait', 'x'], ['wait', 'x', '--for', 'sleeping'], ['create', 'x', '--storage', 'ten'], ['create', 'x', '--label', 'novalue'], ['frobnicate'], ['protect', 'x']]) {
    const run = await toygres(args, { env: { TOYGRES_URL: 'http://127.0.0.1:9' } })
    t.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`)
    t.equal(run.stdout, '')
  }
  const help = await toygres(['--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /Usage: toygres \[options\] \[command\]/)
})
