import t from 'tap'
import { buildTestApp } from '../helpers/app.ts'

t.test('healthz answers while the process lives', async t => {
  const app = await buildTestApp(t)
  const res = await app.inject('/healthz')
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('readyz is 200 once migrations are applied, 503 when one is missing', async t => {
  const app = await buildTestApp(t)
  t.equal((await app.inject('/readyz')).statusCode, 200)
  await app.db.query("DELETE FROM toygres.migrations WHERE name = '001_schema'")
  const res = await app.inject('/readyz')
  t.equal(res.statusCode, 503)
  t.match(res.headers['content-type'], /application\/problem\+json/)
  t.match(res.json(), { status: 503, detail: /migrations/ })
})
