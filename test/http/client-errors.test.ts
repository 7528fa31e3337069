// What a careless or hostile client meets, on the real server process: every
// error has the same problem+json shape (the HTTP parser's own 400 and 431
// included), a request id is echoed only when it is short and plain, and a
// client that sends headers and then nothing loses its socket in bounded
// time, after a 401 too.
import { connect, type Socket } from 'node:net'
import t from 'tap'
import { createTestDatabase } from '../helpers/db.ts'
import { freePort } from '../helpers/ports.ts'
import { spawnServer, waitForOk, type ServerProcess } from '../helpers/server-process.ts'

/** Sends raw bytes, resolves with everything the server wrote before it closed the connection. */
function raw (port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    let out = ''
    socket.setEncoding('utf8').on('data', d => { out += d }).on('close', () => resolve(out)).on('error', reject)
  })
}

const bodyOf = (response: string): any => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))

async function server (t: { teardown (fn: () => unknown): void }, env: Record<string, string> = {}): Promise<{ s: ServerProcess, port: number }> {
  const port = await freePort()
  const s = spawnServer({ DATABASE_URL: await createTestDatabase(t), TOYGRES_WORKER_CONCURRENCY: '0', ...env }, port)
  t.teardown(() => { s.child.kill('SIGKILL') })
  await waitForOk(s, '/readyz')
  return { s, port }
}

t.test('the HTTP parser\'s errors are problem+json', async t => {
  const { port } = await server(t)
  const bad = await raw(port, 'GET /instances HTTP/1.1\r\nHost: x\r\nBad Header Name: 1\r\n\r\n')
  t.match(bad, /^HTTP\/1\.1 400 /)
  t.match(bad, /content-type: application\/problem\+json/i)
  t.match(bodyOf(bad), { type: 'https://toygres.dev/problems/bad-request', status: 400, detail: String })

  const huge = await raw(port, `GET /instances HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(20 * 1024)}\r\n\r\n`)
  t.match(huge, /^HTTP\/1\.1 431 /)
  t.match(bodyOf(huge), { type: 'https://toygres.dev/problems/headers-too-large', status: 431, title: 'Request header fields too large' })
})

t.test('a request id is echoed only when short and plain', async t => {
  const { s } = await server(t)
  const plain = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'trace-42.a:b' } })
  t.equal(plain.headers.get('x-request-id'), 'trace-42.a:b')
  const long = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'x'.repeat(8 * 1024) } })
  t.match(long.headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'an 8 KB id is replaced by a fresh UUID')
  const odd = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'a b<script>' } })
  t.match(odd.headers.get('x-request-id'), /^[0-9a-f-]{36}$/)
  t.notMatch(s.output(), /x{200}/, 'and never repeated in the log')
})

t.test('slow clients lose their sockets in bounded time, after a 401 too', async t => {
  const { port } = await server(t, { TOYGRES_REQUEST_TIMEOUT_SECONDS: '1', TOYGRES_API_TOKEN: 'a-long-enough-test-token' })
  const sockets: Socket[] = []
  t.teardown(() => { for (const s of sockets) s.destroy() })
  const closed = (socket: Socket): Promise<string> => new Promise(resolve => {
    let out = ''
    socket.setEncoding('utf8').on('data', d => { out += d }).on('close', () => resolve(out))
  })
  const open = (headers: string): { socket: Socket, done: Promise<string> } => {
    const socket = connect(port, '127.0.0.1', () => socket.write(headers))
    sockets.push(socket)
    return { socket, done: closed(socket) }
  }
  // Headers promising a body that never comes, with and without a valid token.
  const withToken = Array.from({ length: 25 }, () => open('POST /instances HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a-long-enough-test-token\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na'))
  const without = Array.from({ length: 25 }, () => open('POST /instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n'))
  const answers = await Promise.all([...withToken, ...without].map(c => c.done))
  t.equal(answers.length, 50, 'all 50 connections were closed by the server')
  t.ok(answers.slice(0, 25).every(a => /^HTTP\/1\.1 408 /.test(a) || a === ''), 'a body that never arrives ends in 408 (or a closed socket)')
  t.ok(answers.slice(25).every(a => /^HTTP\/1\.1 401 /.test(a)), 'without a token: 401, and the connection closes')
})
