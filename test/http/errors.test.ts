// The one error handler: every failure is problem+json, client mistakes keep
// their 4xx and name the field, and a 500 reveals nothing.
import Fastify from 'fastify'
import t from 'tap'
import { Type } from 'typebox'
import app, { serverOptions } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'

async function build () {
  const fastify = Fastify({ ...serverOptions, logger: false })
  await fastify.register(app, { config: loadConfig({}), databaseUrl: null })
  fastify.post('/echo', {
    schema: { body: Type.Object({ name: Type.String({ minLength: 3 }), size: Type.Integer() }, { additionalProperties: false }) }
  }, async request => request.body)
  fastify.get('/boom', async () => { throw new Error('secret internals: password=hunter2') })
  await fastify.ready()
  return fastify
}

t.test('problem+json for every failure class', async t => {
  const fastify = await build()
  t.teardown(() => fastify.close())

  const notFound = await fastify.inject('/nowhere?x=1')
  t.equal(notFound.statusCode, 404)
  t.match(notFound.headers['content-type'], 'application/problem+json')
  t.match(notFound.json(), { type: 'https://toygres.dev/problems/not-found', title: 'Not found', status: 404, detail: /GET \/nowhere/ })

  const invalid = await fastify.inject({ method: 'POST', url: '/echo', payload: { name: 'ab', size: 'big', color: 'red' } })
  t.equal(invalid.statusCode, 400)
  const body = invalid.json()
  t.equal(body.type, 'https://toygres.dev/problems/validation-failed')
  const fields = body.errors.map((e: { field: string }) => e.field).sort()
  t.same(fields, ['body.color', 'body.name', 'body.size'])

  const missing = await fastify.inject({ method: 'POST', url: '/echo', payload: { size: 1 } })
  t.match(missing.json().errors, [{ field: 'body.name' }])

  const malformed = await fastify.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"name": ' })
  t.equal(malformed.statusCode, 400)
  t.match(malformed.json(), { type: /bad-request/ })

  const tooBig = await fastify.inject({ method: 'POST', url: '/echo', payload: { name: 'x'.repeat(70_000), size: 1 } })
  t.equal(tooBig.statusCode, 413)
  t.match(tooBig.json(), { type: /payload-too-large/ })

  const wrongType = await fastify.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/xml' }, payload: '<a/>' })
  t.equal(wrongType.statusCode, 415)

  const boom = await fastify.inject('/boom')
  t.equal(boom.statusCode, 500)
  t.match(boom.json(), { type: /internal-error/, status: 500 })
  t.notMatch(boom.body, /hunter2|internals/)
})

t.test('every response carries a request id, and a caller may choose it', async t => {
  const fastify = await build()
  t.teardown(() => fastify.close())
  const mine = await fastify.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } })
  t.equal(mine.statusCode, 200)
  t.equal(mine.headers['x-request-id'], 'abc-123')
  const generated = await fastify.inject('/healthz')
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})
