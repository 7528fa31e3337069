// The dashboard's files: open without the token (its API calls carry it),
// client routes only under /ui/ (so no API path is ever answered with the
// page, and unknown paths stay problem+json), hashed assets cached for
// good, and a page that says how to build it when ui/dist is missing.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import t from 'tap'
import auth from '../../src/http/plugins/auth.ts'
import dashboard from '../../src/http/plugins/dashboard.ts'
import errors from '../../src/http/plugins/errors.ts'

const TOKEN = 'a-dashboard-token-16+'

async function serve (t: { teardown (fn: () => unknown): void }, root: string) {
  const app = Fastify()
  await app.register(errors)
  await app.register(auth, { token: TOKEN, metricsPublic: false })
  await app.register(dashboard, { root })
  app.get('/instances', async () => ({ items: [] }))
  await app.ready()
  t.teardown(() => app.close())
  return app
}

t.test('the page and its files are open; the API is not; client routes stay under /ui/', async t => {
  const root = await mkdtemp(join(tmpdir(), 'toygres-dist-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  await mkdir(join(root, 'assets'))
  await writeFile(join(root, 'index.html'), '<!doctype html><title>Toygres</title><div id="app"></div>')
  await writeFile(join(root, 'assets', 'index-abc123.js'), 'console.log(1)')
  await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
  const app = await serve(t, root)

  for (const url of ['/', '/ui/new', '/ui/instances/orders-db', '/ui/operations/3f0c8a4e-2b1d-4c7a-9e5f-0a1b2c3d4e5f']) {
    const res = await app.inject(url)
    t.equal(res.statusCode, 200, `${url} is the page, without a token`)
    t.match(res.headers['content-type'], /^text\/html/)
    t.match(res.body, /<div id="app">/)
    t.match(res.headers['content-security-policy'], /default-src 'self'/, 'the page may load nothing from elsewhere')
    t.equal(res.headers['cache-control'], 'no-cache')
  }
  const asset = await app.inject('/ui/assets/index-abc123.js')
  t.equal(asset.statusCode, 200)
  t.match(asset.headers['cache-control'], /immutable/)
  t.equal((await app.inject('/ui/favicon.svg')).statusCode, 200)

  const missing = await app.inject('/ui/assets/index-gone.js')
  t.equal(missing.statusCode, 404, 'a missing asset is not the page')
  t.match(missing.headers['content-type'], /application\/problem\+json/)

  t.equal((await app.inject('/instances')).statusCode, 401, 'the API still needs the token')
  const unknown = await app.inject({ url: '/instancez', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(unknown.statusCode, 404, 'an unknown path is a problem, not the page')
  t.match(unknown.headers['content-type'], /application\/problem\+json/)
  t.equal((await app.inject({ url: '/instances/orders-db', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 404)
  t.equal((await app.inject('/index.html')).statusCode, 401, 'nothing outside / and /ui/ is opened')
})

t.test('without a build, / says how to make one and the server still runs', async t => {
  const app = await serve(t, join(tmpdir(), 'toygres-no-such-dist'))
  const res = await app.inject('/')
  t.equal(res.statusCode, 200)
  t.match(res.body, /npm install/)
  t.match(res.body, /npm run build:ui/)
  t.equal((await app.inject({ url: '/instances', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 200)
})
