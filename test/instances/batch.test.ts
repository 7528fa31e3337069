// Bulk create and delete: each item stands alone. Good items are created,
// a taken name is 409 and a bad item is 400 naming its field, in order,
// with nothing half-made; batch-delete by label has a dry run that deletes
// nothing.
import t from 'tap'
import { buildTestApp } from '../helpers/app.ts'

t.test('a batch with good and bad items', async t => {
  const app = await buildTestApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'taken' } })).statusCode, 202)
  const res = await app.inject({
    method: 'POST',
    url: '/instances/batch',
    payload: {
      items: [
        { name: 'bulk-a', labels: { batch: 'one' } },
        { name: 'taken' },
        { name: 'Bad_Name' },
        { name: 'bulk-b', storage_size_gb: '10' },
        'not an object',
        { name: 'bulk-c', postgres_version: '12' },
        { name: 'bulk-d', labels: { batch: 'one' } }
      ]
    }
  })
  t.equal(res.statusCode, 200)
  const items = res.json().items as Array<{ index: number, status: number, name: string | null, problem?: any, instance?: any, password?: string }>
  t.same(items.map(i => [i.index, i.status]), [[0, 202], [1, 409], [2, 400], [3, 400], [4, 400], [5, 400], [6, 202]])
  t.equal(items[0]!.instance.state, 'creating')
  t.equal(typeof items[0]!.password, 'string', 'a generated password, once')
  t.match(items[2]!.problem, { status: 400, errors: [{ field: 'body.items.2.name' }] })
  t.match(items[3]!.problem.errors, [{ field: 'body.items.3.storage_size_gb', message: /whole number/ }])
  t.match(items[1]!.problem, { type: 'https://toygres.dev/problems/conflict', detail: /already exists/ })
  const { rows } = await app.db.query<{ name: string }>('SELECT name FROM toygres.instances ORDER BY name')
  t.same(rows.map(r => r.name), ['bulk-a', 'bulk-d', 'taken'], 'only the good items, nothing half-made')
  t.equal((await app.inject({ method: 'POST', url: '/instances/batch', payload: { items: Array(101).fill({ name: 'x' }) } })).statusCode, 400, 'at most 100')

  const dry = await app.inject({ method: 'POST', url: '/instances/batch-delete', payload: { label: 'batch=one', dry_run: true } })
  t.equal(dry.statusCode, 200)
  t.same(dry.json().items.map((i: { name: string, status: number }) => [i.name, i.status]), [['bulk-a', 200], ['bulk-d', 200]])
  t.equal((await app.db.query("SELECT count(*)::int AS n FROM toygres.instances WHERE state = 'deleting'")).rows[0].n, 0, 'a dry run deletes nothing')
  const del = await app.inject({ method: 'POST', url: '/instances/batch-delete', payload: { names: ['bulk-a', 'nobody'] } })
  t.same(del.json().items.map((i: { name: string, status: number }) => [i.name, i.status]), [['bulk-a', 202], ['nobody', 404]])
  t.equal((await app.inject('/instances/bulk-a')).json().state, 'deleting')
  t.equal((await app.inject({ method: 'POST', url: '/instances/batch-delete', payload: { names: ['a'], label: 'x=y' } })).statusCode, 400, 'names or label, not both')
})
