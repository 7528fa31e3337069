// The typed client against the real API over HTTP: requests are typed by
// the generated schema, problems arrive as ProblemError with their title and
// detail, and the event stream reader follows an instance.
import t from 'tap'
import { ProblemError, streamEvents, toygresClient, unwrap } from '../client/index.ts'
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
