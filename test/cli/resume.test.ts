// A dropped event stream does not lose or repeat steps: the CLI reconnects
// with Last-Event-ID. A proxy between the CLI and the API cuts the first
// stream right after its first step event.
import { createServer, request, type IncomingHttpHeaders } from 'node:http'
import t from 'tap'
import { startApi, toygres } from './helpers.ts'

t.test('create --wait across a dropped stream: every step once, resumed after the last event', async t => {
  const { url } = await startApi(t)
  const upstream = new URL(url)
  const streams: IncomingHttpHeaders[] = []
  const proxy = createServer((req, res) => {
    const isStream = /\/events(\?|$)/.test(req.url ?? '')
    const nth = isStream ? streams.push(req.headers) : 0
    const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, up => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      let seen = ''
      up.on('data', (chunk: Buffer) => {
        if (nth !== 1) return void res.write(chunk)
        // The first stream dies right after its first step event (whatever came with it
        // in the same read is lost), as a flaky network would have it.
        const before = seen.length
        seen += chunk.toString()
        const step = /event: step\n[^]*?\n\n/.exec(seen)
        if (!step) return void res.write(chunk)
        res.write(seen.slice(before, step.index + step[0].length))
        res.socket?.destroy()
        up.destroy()
      })
      up.on('end', () => res.end())
      up.on('error', () => res.destroy())
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => { proxy.closeAllConnections(); proxy.close(resolve) }))
  const via = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`

  const run = await toygres(['create', 'flaky', '--wait'], { env: { TOYGRES_URL: via } })
  t.equal(run.code, 0, run.stderr)
  t.ok(streams.length >= 2, 'it reconnected')
  t.match(streams[1], { 'last-event-id': /^\d+\.\d+$/ }, 'after the last event it had')
  t.equal(streams[0]!['last-event-id'], undefined, 'the first from the beginning')
  const done = run.stderr.split('\n').filter(l => l.startsWith('✔ ')).map(l => l.split(' ')[1])
  t.same(done, ['deploy-postgres', 'wait-for-ready', 'get-connection-strings', 'test-connection', 'mark-running', 'start-health-check'], 'each step once, in order')
  t.match(run.stdout, /^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres/)
})
