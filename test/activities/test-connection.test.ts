import t from 'tap'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { appendFile, chown, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { promisify, inspect } from 'node:util'
import { testConnection, TestConnectionError } from '../../src/activities/test-connection.ts'
import { findBinaries, postgresRunAs } from '../../src/postgres/binaries.ts'
import { stopCluster } from '../../src/postgres/cluster.ts'
import { freePort } from '../helpers/ports.ts'
import { deployInput, harness, INSTANCE_ID, never, secretPassword } from '../provisioners/local/fixtures/helpers.ts'

const run = promisify(execFile)
interface Teardown { teardown (fn: () => unknown): void }

async function instance (t: Teardown, portMin: number, name: string) {
  const h = await harness(t, portMin, portMin + 9)
  const password = secretPassword()
  await h.provisioner.deployPostgres(deployInput(name, password), never)
  await h.provisioner.waitForReady({ namespace: 'toygres', instance_name: name, instance_id: INSTANCE_ID, timeout_seconds: 60 }, never)
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ namespace: 'toygres', instance_name: name, instance_id: INSTANCE_ID, use_load_balancer: false, dns_label: null, timeout_seconds: 60 }, never)
  return { h, password, url, pgdata: join(h.dataDir, 'instances', 'toygres', name, 'pgdata') }
}

/** A TCP server that accepts and never says a word. */
async function silentServer (t: Teardown): Promise<{ port: number, connected: Promise<unknown> }> {
  const sockets: Socket[] = []
  const server = createServer(socket => { sockets.push(socket) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { for (const s of sockets) s.destroy(); server.close() })
  return { port: (server.address() as { port: number }).port, connected: once(server, 'connection') }
}

t.test('against a local instance', async t => {
  const { password, url } = await instance(t, 27500, 'tc')

  t.test('the right password gives the version', async t => {
    const { version } = await testConnection({ connection_string: url, password, ca_pem: null }, never.signal)
    t.match(version, /^PostgreSQL 18\.\d+ on /)
  })

  t.test('a wrong password is a clear, permanent error that holds neither password', async t => {
    const wrong = `${password}-wrong`
    const err = await testConnection({ connection_string: url, password: wrong, ca_pem: null }, never.signal).catch(e => e)
    t.type(err, TestConnectionError)
    t.match(err.message, /password authentication failed for user "postgres" \(28P01\)/)
    t.equal(err.sqlstate, '28P01')
    t.equal(err.retryable, false)
    const everything = inspect(err, { depth: 10 }) + JSON.stringify(err)
    t.notOk(everything.includes(wrong) || everything.includes(password), 'no password anywhere in the error')
  })
})

t.test('a closed port fails at once with the reason, not at the timeout', async t => {
  const port = await freePort()
  const err = await testConnection({ connection_string: `postgresql://postgres@127.0.0.1:${port}/postgres`, password: 'x', ca_pem: null, timeout_seconds: 600 }, never.signal).catch(e => e)
  t.type(err, TestConnectionError)
  t.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`))
  t.equal(err.retryable, true)
})

t.test('a server that never answers hits the connect timeout', async t => {
  const { port } = await silentServer(t)
  const err = await testConnection({ connection_string: `postgresql://postgres@127.0.0.1:${port}/postgres`, password: 'x', ca_pem: null, timeout_seconds: 1 }, never.signal).catch(e => e)
  t.match(err, { name: 'TestConnectionError', message: /timed out after 1 s/, retryable: true })
})

t.test('abort ends an attempt in progress with the caller\'s reason', async t => {
  const { port, connected } = await silentServer(t)
  const controller = new AbortController()
  const pending = testConnection({ connection_string: `postgresql://postgres@127.0.0.1:${port}/postgres`, password: 'x', ca_pem: null, timeout_seconds: 600 }, controller.signal)
  await connected
  controller.abort(new Error('operation cancelled'))
  await t.rejects(pending, { message: 'operation cancelled' })
  await t.rejects(testConnection({ connection_string: 'postgresql://postgres@127.0.0.1:1/postgres', password: 'x', ca_pem: null }, controller.signal), { message: 'operation cancelled' })
})

t.test('bad connection strings are permanent errors', async t => {
  await t.rejects(testConnection({ connection_string: 'not a url', password: 'x', ca_pem: null }, never.signal), { name: 'TestConnectionError', retryable: false })
  await t.rejects(testConnection({ connection_string: 'mysql://h/db', password: 'x', ca_pem: null }, never.signal), { message: /unsupported scheme mysql:/ })
})

const hasOpenssl = await run('openssl', ['version']).then(() => true, () => false)

t.test('TLS is used when the server offers it', { skip: hasOpenssl ? false : 'no openssl to make a certificate with' }, async t => {
  const { h, password, url, pgdata } = await instance(t, 27520, 'tls')
  const runAs = postgresRunAs()
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', join(pgdata, 'server.key'), '-out', join(pgdata, 'server.crt')])
  if (runAs) {
    await chown(join(pgdata, 'server.key'), runAs.uid, runAs.gid)
    await chown(join(pgdata, 'server.crt'), runAs.uid, runAs.gid)
  }
  await appendFile(join(pgdata, 'postgresql.conf'), "ssl = on\nlog_connections = 'authorization'\n")
  await stopCluster({ binaries: findBinaries(), runAs, dataDir: pgdata })
  await writeFile(join(pgdata, 'server.log'), '') // only this server's lines from here on
  await h.provisioner.deployPostgres(deployInput('tls', password), never) // converges: starts it again
  await h.provisioner.waitForReady({ namespace: 'toygres', instance_name: 'tls', instance_id: INSTANCE_ID, timeout_seconds: 60 }, never)
  t.match((await testConnection({ connection_string: url, password, ca_pem: null }, never.signal)).version, /^PostgreSQL 18/)
  t.match(await readFile(join(pgdata, 'server.log'), 'utf8'), /connection authorized: user=postgres database=postgres application_name=toygres-test-connection SSL enabled/)
})
