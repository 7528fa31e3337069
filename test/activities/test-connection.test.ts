import t from 'tap'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { testConnection, TestConnectionError } from '../../src/activities/test-connection.ts'
import { createInMemoryAuthority } from '../../src/tls/authority.ts'
import { freePort } from '../helpers/ports.ts'
import { deployInput, harness, INSTANCE_ID, never, secretPassword, testTls } from '../provisioners/local/fixtures/helpers.ts'

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
    const { version } = await testConnection({ connection_string: url, password, ca_pem: testTls.ca_pem }, never.signal)
    t.match(version, /^PostgreSQL 18\.\d+ on /)
  })

  t.test('a wrong password is a clear, permanent error that holds neither password', async t => {
    const wrong = `${password}-wrong`
    const err = await testConnection({ connection_string: url, password: wrong, ca_pem: testTls.ca_pem }, never.signal).catch(e => e)
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

t.test('TLS: the chain is verified against the CA given', async t => {
  const { password, url } = await instance(t, 27520, 'tls')
  t.match(url, /\?sslmode=require$/, 'the local connection string asks for TLS')
  const { version } = await testConnection({ connection_string: url, password, ca_pem: testTls.ca_pem }, never.signal)
  t.match(version, /^PostgreSQL 18/, 'the instance\'s certificate chains to the control plane\'s CA')

  const stranger = await createInMemoryAuthority('another-plane')
  const err = await testConnection({ connection_string: url, password, ca_pem: stranger.certificatePem }, never.signal).catch(e => e)
  t.type(err, TestConnectionError)
  t.match(err.message, /certificate/i, 'refused: the certificate does not chain to that CA')
  t.equal(err.retryable, false, 'a certificate from another CA will not get better by retrying')
  t.notOk(inspect(err, { depth: 10 }).includes(password))
})
