// Bad input gets a clear 4xx problem+json naming the field, and loses
// nothing: no instance row and no operation is left behind.
import t from 'tap'
import { buildTestApp } from '../helpers/app.ts'

t.test('every class of bad input is a 4xx that names the field', async t => {
  const app = await buildTestApp(t)
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/instances', payload: payload as string, headers })

  const cases: Array<[string, unknown, number, string]> = [
    ['missing name', {}, 400, 'body.name'],
    ['name with upper case', { name: 'Orders' }, 400, 'body.name'],
    ['name starting with a digit', { name: '1db' }, 400, 'body.name'],
    ['name ending with a dash', { name: 'db-' }, 400, 'body.name'],
    ['name too long for Kubernetes', { name: 'a'.repeat(41) }, 400, 'body.name'],
    ['name with a dot', { name: 'a.b' }, 400, 'body.name'],
    ['wrong type', { name: 'db', storage_size_gb: 'lots' }, 400, 'body.storage_size_gb'],
    ['storage too small', { name: 'db', storage_size_gb: 0 }, 400, 'body.storage_size_gb'],
    ['storage too big', { name: 'db', storage_size_gb: 100000 }, 400, 'body.storage_size_gb'],
    ['unsupported version', { name: 'db', postgres_version: '9.6' }, 400, 'body.postgres_version'],
    ['bad dns label', { name: 'db', dns_label: 'Not_A_Label' }, 400, 'body.dns_label'],
    ['bad namespace', { name: 'db', namespace: 'kube system' }, 400, 'body.namespace'],
    ['short password', { name: 'db', password: 'short' }, 400, 'body.password'],
    ['password with a space', { name: 'db', password: 'has a space in it' }, 400, 'body.password'],
    ['unknown field', { name: 'db', replicas: 3 }, 400, 'body.replicas'],
    ['not an object', [1, 2], 400, 'body']
  ]
  for (const [label, payload, status, field] of cases) {
    const res = await post(payload)
    t.equal(res.statusCode, status, label)
    t.match(res.headers['content-type'], 'application/problem+json', label)
    const problem = res.json()
    t.match(problem, { type: String, title: String, status, detail: String }, label)
    t.ok(problem.errors?.some((e: { field: string }) => e.field === field), `${label}: names ${field} (${JSON.stringify(problem.errors)})`)
  }

  const malformed = await app.inject({ method: 'POST', url: '/instances', headers: { 'content-type': 'application/json' }, payload: '{"name": "db",' })
  t.equal(malformed.statusCode, 400)
  const tooBig = await post({ name: 'db', password: 'x'.repeat(100_000) })
  t.equal(tooBig.statusCode, 413)
  const wrongMedia = await app.inject({ method: 'POST', url: '/instances', headers: { 'content-type': 'text/plain' }, payload: 'name=db' })
  t.equal(wrongMedia.statusCode, 415)
  const badKey = await post({ name: 'db' }, { 'idempotency-key': 'k'.repeat(300) })
  t.equal(badKey.statusCode, 400)
  t.match(badKey.json().errors, [{ field: 'headers.idempotency-key' }])

  t.equal((await app.inject('/instances/Bad_Name')).statusCode, 400)
  t.equal((await app.inject('/instances/nobody')).statusCode, 404)
  t.match((await app.inject('/instances/nobody')).json(), { status: 404, detail: /nobody/ })
  t.equal((await app.inject({ method: 'DELETE', url: '/instances/nobody' })).statusCode, 404)
  t.equal((await app.inject('/operations/not-a-uuid')).statusCode, 400)
  t.equal((await app.inject('/operations/00000000-0000-4000-8000-000000000000')).statusCode, 404)
  t.equal((await app.inject('/instances?limit=0')).statusCode, 400)
  t.equal((await app.inject('/instances?state=sleeping')).statusCode, 400)
  t.equal((await app.inject('/instances?cursor=garbage')).statusCode, 400)

  const { rows: [counts] } = await app.db.query<{ instances: number, operations: number }>(
    'SELECT (SELECT count(*)::int FROM toygres.instances) AS instances, (SELECT count(*)::int FROM toygres.operations) AS operations')
  t.same(counts, { instances: 0, operations: 0 }, 'nothing half-made')
})

t.test('namespaces: Kubernetes\' own are refused always, TOYGRES_ALLOWED_NAMESPACES narrows the rest; nothing is made', async t => {
  const open = await buildTestApp(t)
  const system = await open.inject({ method: 'POST', url: '/instances', payload: { name: 'db', namespace: 'kube-system' } })
  t.equal(system.statusCode, 422)
  t.match(system.json(), { title: 'Namespace not allowed', errors: [{ field: 'body.namespace', message: 'kube-system belongs to Kubernetes itself; instances cannot go there' }] })
  const narrow = await buildTestApp(t, { TOYGRES_ALLOWED_NAMESPACES: 'toygres, team-a' })
  const other = await narrow.inject({ method: 'POST', url: '/instances', payload: { name: 'db', namespace: 'team-b' } })
  t.equal(other.statusCode, 422)
  t.match(other.json(), { detail: 'namespace team-b is not allowed: this control plane creates instances only in toygres, team-a (TOYGRES_ALLOWED_NAMESPACES)' })
  for (const app of [open, narrow]) {
    const { rows: [counts] } = await app.db.query<{ n: number }>('SELECT (SELECT count(*) FROM toygres.instances) + (SELECT count(*) FROM toygres.operations) AS n')
    t.equal(Number(counts!.n), 0, 'nothing half-made')
  }
})

t.test('list pages through instances with an opaque cursor', async t => {
  const app = await buildTestApp(t)
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo']
  for (const name of names) t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name } })).statusCode, 202)
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const res = await app.inject(`/instances?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
    t.equal(res.statusCode, 200)
    const page = res.json() as { items: Array<{ name: string, state: string }>, next_cursor: string | null }
    t.ok(page.items.length <= 2)
    seen.push(...page.items.map(i => i.name))
    cursor = page.next_cursor
  } while (cursor)
  t.same(seen, names)
  t.same((await app.inject('/instances?state=running')).json().items, [])
  t.equal((await app.inject('/instances?state=creating')).json().items.length, 5)
})

t.test('50 concurrent creates of one name: exactly one 202, the rest 409', async t => {
  const app = await buildTestApp(t)
  const results = await Promise.all(Array.from({ length: 50 }, () =>
    app.inject({ method: 'POST', url: '/instances', payload: { name: 'contended' } })))
  const codes = results.map(r => r.statusCode)
  t.equal(codes.filter(c => c === 202).length, 1)
  t.equal(codes.filter(c => c === 409).length, 49)
  t.match(results.find(r => r.statusCode === 409)!.json(), { type: /conflict/, detail: /contended/ })
  const { rows } = await app.db.query("SELECT count(*)::int AS n FROM toygres.operations WHERE key = 'contended'")
  t.equal(rows[0].n, 1, 'one operation, not fifty')
})

t.test('Idempotency-Key: same body replays, a different body is 422', async t => {
  const app = await buildTestApp(t)
  const headers = { 'idempotency-key': 'req-7f3a' }
  const first = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'idem' }, headers })
  t.equal(first.statusCode, 202)
  const again = await Promise.all([1, 2, 3].map(() => app.inject({ method: 'POST', url: '/instances', payload: { name: 'idem' }, headers })))
  for (const res of again) {
    t.equal(res.statusCode, 202)
    t.equal(res.json().operation.id, first.json().operation.id)
    t.equal(res.json().password, first.json().password, 'a retry still learns the generated password')
  }
  const different = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'idem', storage_size_gb: 20 }, headers })
  t.equal(different.statusCode, 422)
  t.match(different.json(), { type: /idempotency-key-reused/ })
  const otherKey = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'idem' }, headers: { 'idempotency-key': 'another' } })
  t.equal(otherKey.statusCode, 409, 'a new key for a taken name is a conflict')
})

t.test('with TOYGRES_API_TOKEN every API route needs the bearer token', async t => {
  const token = 'tok-0123456789abcdef0123'
  const app = await buildTestApp(t, { TOYGRES_API_TOKEN: token })
  for (const url of ['/healthz', '/readyz', '/docs/json']) t.equal((await app.inject(url)).statusCode, 200, `${url} stays open`)
  const none = await app.inject('/instances')
  t.equal(none.statusCode, 401)
  t.match(none.headers['www-authenticate'], /Bearer/)
  t.match(none.headers['content-type'], 'application/problem+json')
  t.equal((await app.inject({ url: '/instances', headers: { authorization: 'Bearer wrong' } })).statusCode, 401)
  t.equal((await app.inject({ url: '/instances', headers: { authorization: `Basic ${token}` } })).statusCode, 401)
  t.equal((await app.inject({ url: '/instances', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'x' } })).statusCode, 401, 'rejected before validation or side effects')
  t.equal((await app.inject('/metrics')).statusCode, 401, '/metrics follows the API rule')
  t.equal((await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
})

t.test('TOYGRES_METRICS_PUBLIC opens /metrics alone', async t => {
  const app = await buildTestApp(t, { TOYGRES_API_TOKEN: 'tok-0123456789abcdef0123', TOYGRES_METRICS_PUBLIC: 'true' })
  const res = await app.inject('/metrics')
  t.equal(res.statusCode, 200)
  t.match(res.body, /# TYPE toygres_instances gauge/)
  t.equal((await app.inject('/instances')).statusCode, 401)
})

t.test('errors say what is allowed, in words, and bodies get exactly the stated types', async t => {
  const app = await buildTestApp(t)
  const post = (payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.inject({ method: 'POST', url: '/instances', payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers })
  const message = async (payload: unknown, field: string): Promise<string> => {
    const res = await post(payload)
    t.equal(res.statusCode, 400, `${field}: ${res.body}`)
    const found = (res.json().errors as Array<{ field: string, message: string }>).find(e => e.field === field)
    t.ok(found, `names ${field}: ${res.body}`)
    return found?.message ?? ''
  }
  const schemaSpeak = /must be equal to constant|must match pattern|must have required property|must match a schema in anyOf|\^\[/

  const version = await message({ name: 'db', postgres_version: '16x' }, 'body.postgres_version')
  t.match(version, /one of "15", "16", "17" or "18"/, 'the allowed versions, listed')
  const name = await message({ name: 'Bad_Name' }, 'body.name')
  t.match(name, /Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most 40 characters/, 'the naming rule in English, from the schema\'s description')
  t.match(await message({}, 'body.name'), /^is required/)
  t.match(await message({ name: 'db', password: 'short' }, 'body.password'), /at least 12 characters/)
  t.match(await message({ name: 'db', storage_size_gb: 0 }, 'body.storage_size_gb'), /at least 1 \(got 0\)/, 'the value sent, not its type')
  t.match(await message({ name: 'db', replicas: 3 }, 'body.replicas'), /not a field of this request; the fields are name, password/)
  t.match(await message({ name: 'db', allowed_cidrs: ['10.0.0.1'] }, 'body.allowed_cidrs.0'), /CIDR notation/)
  t.match(await message({ name: 'db', dns_label: 5 }, 'body.dns_label'), /text \(a JSON string\) or null \(got 5\)/)
  for (const m of [version, name]) t.notMatch(m, schemaSpeak)

  // No coercion of bodies: the types the OpenAPI document states, exactly.
  t.match(await message({ name: ['x'] }, 'body.name'), /must be text \(a JSON string\) \(got array\)/)
  t.match(await message({ name: 'db', storage_size_gb: '10' }, 'body.storage_size_gb'), /whole number \(got "10"\)/)
  t.match(await message({ name: 'db', use_load_balancer: 'true' }, 'body.use_load_balancer'), /true or false/)
  // Query strings are text on the wire: numbers there are still parsed.
  t.equal((await app.inject('/instances?limit=5')).statusCode, 200)

  const proto = await post('{"name": "db", "__proto__": {"admin": true}}')
  t.equal(proto.statusCode, 400)
  t.match(proto.json().detail, /"__proto__".*refused/)
  t.notMatch(proto.json().detail, /not valid JSON/)
  const broken = await post('{"name": "db",')
  t.match(broken.json().detail, /^the body is not valid JSON: /)

  const noType = await app.inject({ method: 'POST', url: '/instances', payload: 'name=db', headers: {} })
  t.equal(noType.statusCode, 415)
  t.match(noType.json().detail, /no Content-Type: send it as JSON with Content-Type: application\/json/)
  const wrongType = await app.inject({ method: 'POST', url: '/instances', payload: '<db/>', headers: { 'content-type': 'application/xml' } })
  t.match(wrongType.json().detail, /the body is application\/xml; this API takes JSON/)

  const put = await app.inject({ method: 'PUT', url: '/instances/db' })
  t.equal(put.statusCode, 405, 'a known path with another method')
  t.equal(put.headers.allow, 'DELETE, GET, HEAD, PATCH')
  t.match(put.json(), { type: 'https://toygres.dev/problems/method-not-allowed', detail: /PUT is not allowed on \/instances\/db/ })
  t.equal((await app.inject({ method: 'PATCH', url: '/nowhere' })).statusCode, 404, 'an unknown path stays 404')

  const { rows: [counts] } = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM toygres.instances')
  t.equal(counts!.n, 0, 'nothing half-made')
})
