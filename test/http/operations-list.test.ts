// Lists of operations, newest first, a page at a time, on the real app and
// a real database (no worker runs: operations stay as they were started).
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { linkOperation } from '../../src/db/instance-events.ts'
import { inTransaction } from '../../src/db/queryable.ts'
import { orchestration } from '../../src/engine/index.ts'
import { orchestrationNames } from '../../src/orchestrations/names.ts'
import { buildTestApp } from '../helpers/app.ts'

interface Page { items: Array<{ id: string }>, next_cursor: string | null }

/** Every page, following next_cursor. */
async function everyPage (app: FastifyInstance, path: string): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const res = await app.inject(`${path}${path.includes('?') ? '&' : '?'}${cursor ? `cursor=${cursor}` : ''}`)
    if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
    const page = res.json() as Page
    ids.push(...page.items.map(i => i.id))
    cursor = page.next_cursor
  } while (cursor)
  return ids
}

t.test('operations started in one transaction share created_at: the cursor keeps its microseconds', async t => {
  const app = await buildTestApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/instances', payload: { name: 'solo' } })).statusCode, 202)
  const { rows: [solo] } = await app.db.query<{ id: string }>("SELECT id FROM toygres.instances WHERE name = 'solo'")
  const together = await inTransaction(app.db, async client => {
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const { operation } = await app.engine.start(orchestration(orchestrationNames.UPDATE_INSTANCE), { instance_id: solo!.id, name: 'solo', namespace: 'toygres' }, { key: 'solo', db: client, trace: true })
      await linkOperation(client, solo!.id, operation.id, 'update')
      ids.push(operation.id)
    }
    return ids
  })
  const { rows: [shared] } = await app.db.query<{ n: number }>('SELECT count(DISTINCT created_at)::int AS n FROM toygres.operations WHERE id = ANY($1)', [together])
  t.equal(shared!.n, 1, 'one created_at for the five')
  const own = await everyPage(app, '/instances/solo/operations?limit=2')
  t.equal(own.length, 6)
  t.same([...new Set(own)].length, 6, 'GET /instances/{name}/operations: each once (the create and the five)')
})
