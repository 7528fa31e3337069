// readLogs on a real server: the tail, then new lines while following, until
// aborted or deleted; and no password passes through, whether the server
// was configured to keep it out (it is) or a superuser let it in.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import pg from 'pg'
import { redactSecrets } from '../../../src/provisioners/local/logs.ts'
import { scramVerifier } from '../../../src/postgres/scram.ts'
import { deployInput, filesContaining, harness, never, pgdataOf, refOf, secretPassword, testTls } from './fixtures/helpers.ts'

const ref = refOf('logs')

async function instance (t: { teardown (fn: () => unknown): void }, portMin: number) {
  const h = await harness(t, portMin, portMin + 9)
  const password = secretPassword()
  await h.provisioner.deployPostgres(deployInput('logs', password), never)
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 10 }, never)
  const client = new pg.Client({ host: '127.0.0.1', port: Number(new URL(url).port), user: 'postgres', database: 'postgres', password, ssl: { ca: testTls.ca_pem } })
  await client.connect()
  client.on('error', () => {}) // the server goes away when the instance is deleted
  t.teardown(() => client.end())
  /** Runs `sql`; an error is what some of these statements are for. */
  const attempt = (sql: string): Promise<unknown> => client.query(sql).catch((err: Error) => err)
  const all = async (tail = 10_000): Promise<string[]> => {
    const lines: string[] = []
    for await (const line of h.provisioner.readLogs({ ...ref, tail, follow: false }, never.signal)) lines.push(line)
    return lines
  }
  return { h, attempt, all, serverLog: join(pgdataOf(h.dataDir, 'logs'), 'server.log') }
}

t.test('statements that carry a password, succeeding or failing, leave no trace in the log', async t => {
  const { h, attempt, all, serverLog } = await instance(t, 27800)
  const known = `known-${randomBytes(8).toString('hex')}`
  await attempt(`CREATE ROLE app LOGIN PASSWORD '${known}'`)
  await attempt(`ALTER ROLE app PASSWORD '${known}'`)
  await attempt(`ALTER ROLE nosuch PASSWORD '${known}'`) // ERROR: role "nosuch" does not exist
  await attempt(`ALTER ROLE app PASSWORD '${known}' NONSENSE`) // ERROR: unrecognized role option "nonsense"
  await attempt(`ALTER ROLE app PASSWORD '${known}' VALID UNTIL 'not a time'`) // ERROR: invalid input syntax
  // The server wrote each ERROR before answering it, so the log holds them now.
  const lines = await all()
  t.ok(lines.some(l => l.includes('role "nosuch" does not exist')), 'the failing statements were logged as errors')
  t.ok(lines.some(l => l.includes('unrecognized role option "nonsense"')))
  t.ok(lines.some(l => l.includes('invalid input syntax for type timestamp with time zone: "not a time"')))
  t.notOk(lines.some(l => l.includes('STATEMENT:')), 'without the statement (log_min_error_statement)')
  t.notOk(lines.some(l => l.includes(known)), 'readLogs yields no password')
  t.notOk((await readFile(serverLog, 'utf8')).includes(known), 'the log file holds none either')
  t.same(await filesContaining(h.dataDir, known), [], 'nor any other file')
})

t.test('what a superuser lets into the log anyway is redacted on the way out', async t => {
  const { attempt, all, serverLog } = await instance(t, 27810)
  const known = `known-${randomBytes(8).toString('hex')}`
  const verifier = scramVerifier(known)
  await attempt('SET log_statement = \'all\'')
  await attempt(`CREATE ROLE app LOGIN PASSWORD '${known}'`)
  await attempt(`ALTER ROLE app PASSWORD '${verifier}'`)
  await attempt(`ALTER ROLE app WITH ENCRYPTED PASSWORD E'${known}'`)
  await attempt(`ALTER ROLE app PASSWORD $pw$${known}$pw$`)
  await attempt('SET log_statement = \'none\'')
  await attempt('SET log_min_error_statement = \'error\'')
  await attempt(`ALTER ROLE nosuch PASSWORD '${known}'`)
  await attempt(`ALTER ROLE app PASSWORD '${known}' '${known}'`) // syntax error at or near "'known…'"
  await attempt(`ALTER ROLE app PASSWORD '${known}`) // unterminated quoted string at or near "'known…"
  const onDisk = await readFile(serverLog, 'utf8')
  t.ok(onDisk.includes(known) && onDisk.includes(verifier.split('$')[2]!), 'the server did write them (so this test is not vacuous)')

  const lines = await all()
  const secret = [known, ...verifier.split(/[$:]/).filter(part => part.length > 20)]
  t.same(lines.filter(l => secret.some(s => l.includes(s))), [], 'no line readLogs yields holds the password or the verifier')
  t.ok(lines.some(l => /statement: CREATE ROLE app LOGIN PASSWORD '\*\*\*'/.test(l)), 'the statement is there, redacted')
  t.ok(lines.some(l => /STATEMENT: +ALTER ROLE nosuch PASSWORD '\*\*\*'/.test(l)))
})

t.test('redaction patterns', async t => {
  t.equal(redactSecrets("LOG:  statement: alter user x with password 'a''b' valid until 'infinity'"), "LOG:  statement: alter user x with password '***' valid until '***'", 'every literal after PASSWORD')
  t.equal(redactSecrets("LOG:  statement: select 'kept', 1 as password"), "LOG:  statement: select 'kept', 1 as password", 'literals before it are kept')
  t.equal(redactSecrets('LOG:  statement: ALTER ROLE a PASSWORD $x$s3cr$t$x$ LOGIN'), "LOG:  statement: ALTER ROLE a PASSWORD '***' LOGIN")
  t.equal(redactSecrets("DETAIL:  stored SCRAM-SHA-256$4096:c2FsdA==$a:b"), 'DETAIL:  stored SCRAM-SHA-256$***')
  t.equal(redactSecrets("ERROR:  unterminated quoted string at or near \"'hunter2\""), "ERROR:  unterminated quoted string at or near \"***\"")
  t.equal(redactSecrets('stored md5' + 'a'.repeat(32)), 'stored md5***')
  t.equal(redactSecrets('ERROR:  syntax error at or near "NONSENSE"'), 'ERROR:  syntax error at or near "NONSENSE"', 'identifiers are kept')
})

t.test('tail, then follow until aborted, and until the instance is deleted', async t => {
  const { h, attempt, all } = await instance(t, 27820)
  const everything = await all()
  const lastTwo: string[] = []
  for await (const line of h.provisioner.readLogs({ ...ref, tail: 2, follow: false }, never.signal)) lastTwo.push(line)
  t.same(lastTwo, everything.slice(-2), 'tail gives the last lines')

  const controller = new AbortController()
  const following = h.provisioner.readLogs({ ...ref, tail: 1, follow: true }, controller.signal)[Symbol.asyncIterator]()
  t.equal((await following.next()).value, everything.at(-1), 'the tail first: from here on it follows')
  await attempt('SELECT 1/0')
  t.match((await following.next()).value, /ERROR: +division by zero/, 'a new line arrives while following')
  const known = `known-${randomBytes(8).toString('hex')}`
  await attempt(`SELECT '${known}'::int`)
  t.match((await following.next()).value, /ERROR: +invalid input syntax for type integer/)
  const pending = following.next()
  controller.abort()
  t.same(await pending, { done: true, value: undefined }, 'abort ends it')

  const untilDeleted = h.provisioner.readLogs({ ...ref, tail: 1, follow: true }, never.signal)[Symbol.asyncIterator]()
  await untilDeleted.next()
  await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 30 }, never)
  // The fast shutdown logs its own lines first; then the instance is gone and following ends.
  let result = await untilDeleted.next()
  while (!result.done) result = await untilDeleted.next()
  t.equal(result.done, true, 'delete ends it')
  await t.rejects(h.provisioner.readLogs({ ...ref, tail: 1, follow: false }, never.signal)[Symbol.asyncIterator]().next(), { name: 'PermanentProvisionerError' })
})
