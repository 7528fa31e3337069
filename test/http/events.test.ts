// The event stream, read by a real HTTP client over a real socket: a create
// shows its state changes and each step's start and end; a client that
// drops the connection and resumes with Last-Event-ID misses nothing and
// sees nothing twice; the stream ends once the instance is gone.
import t from 'tap'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'

interface Sse { id: string, event: string, data: any }

/** Reads SSE events until `until` says stop (or the stream ends), then drops the connection. */
async function read (url: string, headers: Record<string, string>, until: (e: Sse, all: Sse[]) => boolean): Promise<{ events: Sse[], ended: boolean }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } })
  if (res.status !== 200) throw new Error(`${res.status} ${await res.text()}`)
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  const events: Sse[] = []
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return { events, ended: true }
    buffer += value
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const fields = Object.fromEntries(block.split('\n').filter(l => l && !l.startsWith(':')).map(l => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]))
      if (!fields.data) continue
      const e = { id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) }
      events.push(e)
      if (until(e, events)) { await reader.cancel(); return { events, ended: false } }
    }
  }
}

t.test('an instance\'s events: live, resumable without loss or repeats, ending with the instance', async t => {
  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env, TOYGRES_WORKER_CONCURRENCY: '2' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  t.equal((await fetch(`${base}/instances/nobody/events`, { headers: { accept: 'text/event-stream' } })).status, 404)
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'watched', use_load_balancer: false } })).statusCode, 202)

  // Drop the connection after the first step event, then resume from there.
  const first = await read(`${base}/instances/watched/events`, {}, e => e.event === 'step')
  const resumed = await read(`${base}/instances/watched/events`, { 'last-event-id': first.events.at(-1)!.id }, e => e.event === 'operation')
  const stitched = [...first.events, ...resumed.events]

  const whole = await read(`${base}/instances/watched/events?since=0.0`, {}, (e, all) => all.length === stitched.length)
  t.same(stitched.map(e => e.id), whole.events.map(e => e.id), 'resumed = read at once: nothing lost, nothing twice')
  t.same(new Set(stitched.map(e => e.id)).size, stitched.length, 'ids are unique')

  t.same(stitched.filter(e => e.event === 'state').map(e => `${e.data.from}→${e.data.to}`), ['null→creating', 'creating→running'])
  t.match(stitched.at(-1), { event: 'operation', data: { status: 'succeeded', operation: 'toygres-orchestrations::orchestration::create-instance' } })
  const steps = stitched.filter(e => e.event === 'step')
  const ended = steps.filter(e => e.data.status === 'succeeded').map(e => e.data.step.split('::').pop())
  t.same(ended, ['deploy-postgres', 'wait-for-ready', 'get-connection-strings', 'test-connection', 'mark-running', 'start-health-check'], 'each step, in order')
  t.ok(steps.every(e => e.data.operation === 'toygres-orchestrations::orchestration::create-instance'))
  t.ok(steps.filter(e => e.data.status === 'succeeded').every(e => typeof e.data.duration_ms === 'number'), 'with durations')

  // Following on: the delete's steps, the removal, and the end of the stream.
  const tail = read(`${base}/instances/watched/events`, { 'last-event-id': stitched.at(-1)!.id }, () => false)
  t.equal((await app.inject({ method: 'DELETE', url: '/instances/watched' })).statusCode, 202)
  const rest = await tail
  t.equal(rest.ended, true, 'the stream ends once the instance is gone')
  t.same(rest.events.filter(e => ['state', 'operation', 'removed'].includes(e.event)).map(e => `${e.event}:${e.data.to ?? e.data.status}`),
    ['state:deleting', 'removed:removed', 'operation:succeeded'], 'the state change, the removal, then the delete\'s end')
  t.ok(rest.events.some(e => e.event === 'step' && e.data.step?.endsWith('delete-postgres') && e.data.status === 'succeeded'))
})
