// `toygres create --wait` against the real API with the local provisioner:
// each step of the create on its own line with its duration, then a
// connection string that works (TLS verified against the API's CA); psql
// through the CLI; -o json as one document; the instance's end.
import { access, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { BIN, startApi, toygres } from './helpers.ts'

const hasScript = (): Promise<boolean> => access('/usr/bin/script').then(() => true, () => false)

const STEPS = ['deploy-postgres', 'wait-for-ready', 'get-connection-strings', 'test-connection', 'mark-running', 'start-health-check']

/** Connects with `uri` as libpq's sslmode=verify-ca would: TLS, the server's certificate chained to `ca`. */
async function query (uri: string, ca: string, sql: string): Promise<Record<string, unknown>> {
  const url = new URL(uri)
  url.searchParams.delete('sslmode') // pg would read it as "verify against the system's CAs"
  const client = new pg.Client({ connectionString: url.toString(), ssl: { ca, checkServerIdentity: () => undefined } })
  await client.connect()
  try {
    return (await client.query(sql)).rows[0]
  } finally {
    await client.end()
  }
}

t.test('create --wait, psql, json, delete', async t => {
  const { url } = await startApi(t)
  const env = { TOYGRES_URL: url }

  const created = await toygres(['create', 'demo', '--wait', '--label', 'env=test'], { env })
  t.equal(created.code, 0, created.stderr)
  const lines = created.stderr.split('\n')
  const done = lines.filter(l => l.startsWith('✔ '))
  t.same(done.map(l => l.split(' ')[1]), STEPS, 'one line per step, in order')
  t.ok(done.every(l => /^✔ \S+ \d+(ms|\.\d+s)$/.test(l)), `each with its duration:\n${done.join('\n')}`)
  t.match(created.stderr, /demo is running \(PostgreSQL \d+/)
  t.match(created.stderr, /shown this once/)
  t.notMatch(created.stderr, /\x1b\[/, 'no colours or spinners without a terminal')

  const uri = created.stdout.trim()
  t.equal(created.stdout.split('\n').filter(Boolean).length, 1, 'stdout is the connection string alone')
  t.match(uri, /^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres\?sslmode=require$/)
  const ca = await (await fetch(`${url}/instances/demo/ca-certificate`)).text()
  const row = await query(uri, ca, 'SELECT current_user AS who, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls')
  t.same(row, { who: 'postgres', tls: true }, 'the connection string works, over TLS from our CA')
  const password = decodeURIComponent(new URL(uri).password)

  // psql through the CLI: libpq's environment, verify-ca with the CA in a private temporary file, removed afterwards.
  const tmp = await mkdtemp(join(tmpdir(), 'toygres-cli-tmp-'))
  t.teardown(() => rm(tmp, { recursive: true, force: true }))
  const psql = await toygres(['psql', 'demo', '-tAc', "SELECT 'one:' || 1, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())"], { env: { ...env, PGPASSWORD: password, TMPDIR: tmp } })
  t.equal(psql.code, 0, psql.stderr)
  t.equal(psql.stdout.trim(), 'one:1|t')
  t.same(await readdir(tmp), [], 'the CA file is gone')
  const refused = await toygres(['psql', 'demo', '-c', 'select 1'], { env: { ...env, PGPASSWORD: 'not-the-password', TMPDIR: tmp } })
  t.not(refused.code, 0)
  t.match(refused.stderr, /password authentication failed/)
  const noPassword = await toygres(['psql', 'demo', '-c', 'select 1'], { env })
  t.equal(noPassword.code, 2, 'no password and no terminal to ask on')
  t.match(noPassword.stderr, /set PGPASSWORD/)

  // url: no password unless asked, and then percent-encoded.
  t.equal((await toygres(['url', 'demo'], { env })).stdout.trim(), uri.replace(/:[^:@/]+@/, '@'))
  t.equal((await toygres(['url', 'demo', '--with-password'], { env: { ...env, PGPASSWORD: 'p@ss:w/rd' } })).stdout.trim(),
    uri.replace(/:[^:@/]+@/, ':p%40ss%3Aw%2Frd@'))

  // -o json: one document each.
  const got = JSON.parse((await toygres(['get', 'demo', '-o', 'json'], { env })).stdout)
  t.match(got, { name: 'demo', state: 'running', labels: { env: 'test' } })
  const listed = JSON.parse((await toygres(['-o', 'json', 'list', '--label', 'env=test'], { env })).stdout)
  t.same(listed.map((i: { name: string }) => i.name), ['demo'])
  const json = await toygres(['create', 'second', '--wait', '-o', 'json'], { env })
  t.equal(json.code, 0, json.stderr)
  const doc = JSON.parse(json.stdout)
  t.match(doc, { name: 'second', state: 'running', password: String, connection_uri: /^postgresql:\/\/postgres:.+@127\.0\.0\.1:\d+\/postgres/ })
  t.equal(json.stderr, '', 'nothing but the document')
  t.same(await query(doc.connection_uri, ca, 'SELECT 1 AS one'), { one: 1 })

  // At a terminal: a spinner while it works, then ✔ lines in colour; the connection string last.
  if (await hasScript()) {
    const cmd = `stty cols 100 rows 40; exec ${process.execPath} ${BIN} create at-a-tty --wait`
    const tty = await toygres([], { env: { ...env, TERM: 'xterm-256color' }, command: { file: 'script', args: ['-qec', cmd, '/dev/null'] } })
    t.equal(tty.code, 0, tty.stdout)
    t.match(tty.stdout, /\x1b\[\?25l/, 'the cursor hidden while the spinner runs')
    t.match(tty.stdout, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/, 'a spinner frame')
    t.match(tty.stdout, /\x1b\[32m✔\x1b\[39m deploy-postgres +\x1b\[2m\d+(ms|\.\d+s)\x1b\[22m/, 'a green ✔ and a dim duration')
    const plain = tty.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
    for (const step of STEPS) t.match(plain, new RegExp(`✔ ${step} +\\d+(ms|\\.\\d+s)\n`), `${step} persisted`)
    t.match(plain, /\npostgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres\?sslmode=require\n/)
  } else {
    t.comment('script(1) is not installed: the terminal rendering is not checked')
  }

  // A day-2 change, followed step by step, and seen by the server.
  const set = await toygres(['set', 'demo', 'work_mem=64MB', '--wait'], { env })
  t.equal(set.code, 0, set.stderr)
  t.match(set.stderr, /^✔ apply-parameters /m)
  t.same(await query(uri, ca, 'SHOW work_mem'), { work_mem: '64MB' })

  // Waiting for what does not come ends at the timeout, exit 4.
  const waited = await toygres(['wait', 'demo', '--for', 'gone', '--timeout', '1'], { env })
  t.equal(waited.code, 4)
  t.match(waited.stderr, /toygres: timed out after 1s waiting for demo to be gone \(it is running\)/)

  // Delete: refused without --yes where nobody can confirm; then followed to the end; the events stream ends with it.
  const refusedDelete = await toygres(['delete', 'demo', '--wait'], { env })
  t.equal(refusedDelete.code, 2)
  t.match(refusedDelete.stderr, /refusing to delete demo without --yes/)
  const events = toygres(['events', 'demo', '-o', 'json'], { env })
  // Delete once the stream is open (its first event is out): a delete can end before a new process connects.
  await new Promise<void>(resolve => events.child.stdout!.once('data', () => resolve()))
  const deleted = await toygres(['delete', 'demo', '--yes', '--wait'], { env })
  t.equal(deleted.code, 0, deleted.stderr)
  t.equal(deleted.stdout.trim(), 'demo deleted')
  t.match(deleted.stderr, /^✔ delete-postgres /m)
  const stream = await events
  t.equal(stream.code, 0, 'events ends once the instance is gone')
  const parsed = stream.stdout.trim().split('\n').map(l => JSON.parse(l))
  t.same(parsed.filter(e => e.event === 'state').map(e => e.data.to), ['creating', 'running', 'updating', 'running', 'deleting'])
  t.ok(parsed.some(e => e.event === 'removed'), 'NDJSON to the removal')
  const gone = await toygres(['get', 'demo'], { env })
  t.equal(gone.code, 3)
  t.equal(gone.stderr, 'toygres: Not found: no instance named "demo"\n')
  t.equal((await toygres(['wait', 'demo', '--for', 'gone'], { env })).code, 0)
})
