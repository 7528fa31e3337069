// The typed client against the real API over HTTP: requests are typed by
// the generated schema, problems arrive as ProblemError with their title and
// detail, the event stream reader follows an instance, and pages() follows
// a list's cursors to its end.
import t from 'tap'
import { pages, ProblemError, streamEvents, toygresClient, unwrap } from '../client/index.ts'
import { buildTestApp } from './helpers/app.ts'

t.test('typed requests, problems as errors, events', async t => {
  const app = await buildTestApp(t, { TOYGRES_API_TOKEN: 'a-test-token-of-16+' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const baseUrl = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const api = toygresClient({ baseUrl, token: 'a-test-token-of-16+' })

  const created = unwrap(await api.POST('/instances', { body: { name: 'typed', use_load_balancer: false } }))
  t.equal(created.name, 'typed')
  t.equal(typeof created.password, 'string')
  const got = unwrap(await api.GET('/instances/{name}', { params: { path: { name: 'typed' } } }))
  t.equal(got.state, 'creating')

  const err = await Promise.resolve(api.POST('/instances', { body: { name: 'typed' } })).then(unwrap, e => e).catch(e => e)
  t.type(err, ProblemError)
  t.match(err.message, /^Conflict: an instance named "typed" already exists$/)

  const anonymous = toygresClient({ baseUrl })
  await t.rejects(Promise.resolve(anonymous.GET('/instances')).then(unwrap), { name: 'ProblemError', problem: { status: 401 } })

  const stop = new AbortController()
  const first = await streamEvents(api.options, '/instances/typed/events', { signal: stop.signal }).next()
  stop.abort()
  t.match(first.value, { event: 'state', data: { from: null, to: 'creating' }, id: /^\d+\.\d+$/ })
  await t.rejects(streamEvents(api.options, '/instances/nobody/events').next(), { name: 'ProblemError', problem: { status: 404 } })
})

t.test('pages() follows next_cursor to the last page', async t => {
  const app = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const api = toygresClient({ baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` })
  const names = ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']
  for (const name of names) unwrap(await api.POST('/instances', { body: { name, use_load_balancer: false } }))
  const seen: string[][] = []
  for await (const page of pages(after => api.GET('/operations', { params: { query: { limit: 2, ...after } } }).then(unwrap))) {
    seen.push(page.items.map(i => i.instance ?? '?'))
  }
  t.same(seen, [['page-e', 'page-d'], ['page-c', 'page-b'], ['page-a']], 'three pages, newest first, none repeated')
  let fetched = 0
  for await (const page of pages(after => { fetched++; return api.GET('/instances', { params: { query: { limit: 2, ...after } } }).then(unwrap) })) {
    if (page.items.length > 0) break
  }
  t.equal(fetched, 1, 'break stops fetching')
})
