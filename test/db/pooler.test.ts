// A DATABASE_URL through a transaction pooler (a real PgBouncer with
// pool_mode=transaction): detected at boot and refused with one clear line
// unless TOYGRES_DATABASE_DIRECT_URL is set; with it, every request works
// (statements go unnamed through the pooler) and operations run (LISTEN and
// pg-boss use the direct connection).
import t from 'tap'
import { isTransactionPooled } from '../../src/db/pooler.ts'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { hasPgBouncer, startPgBouncer } from '../helpers/pgbouncer.ts'
import { pollUntil } from '../helpers/poll.ts'

t.test('through PgBouncer in transaction mode', { skip: hasPgBouncer() ? false : 'pgbouncer is not installed (apt-get install pgbouncer; .ci/run installs it)' }, async t => {
  const direct = await createTestDatabase(t)
  const pooled = await startPgBouncer(t, direct)

  t.equal(await isTransactionPooled(direct, 5000), false, 'a direct connection keeps one backend')
  t.equal(await isTransactionPooled(pooled, 5000), true, 'the pooler hands out another backend after a transaction')

  await t.rejects(buildTestApp(t, {}, { databaseUrl: pooled }), {
    message: /DATABASE_URL goes through a transaction pooler .* set TOYGRES_DATABASE_DIRECT_URL/
  }, 'refused at boot with what to do')

  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env, TOYGRES_DATABASE_DIRECT_URL: direct, DATABASE_URL: pooled, TOYGRES_WORKER_CONCURRENCY: '2' }, { databaseUrl: pooled })
  const created = await app.inject({ method: 'POST', url: '/instances', payload: { name: 'pooled', use_load_balancer: false } })
  t.equal(created.statusCode, 202)
  // Concurrent polls: each runs the named statements of the status endpoint on whatever backend the pooler gives.
  const polls = await Promise.all(Array.from({ length: 40 }, () => app.inject('/instances/pooled')))
  t.same(polls.map(p => p.statusCode), Array(40).fill(200), 'no "prepared statement does not exist"')
  const running = await pollUntil(async () => (await app.inject('/instances/pooled')).json(), i => i.state !== 'creating', { what: 'create to end', timeoutMs: 120_000 })
  t.equal(running.state, 'running', JSON.stringify(running.error))
  // waitFor wakes on the finish NOTIFY, heard on the direct connection.
  const op = await app.engine.waitFor(running.operation.id, { timeoutMs: 30_000 })
  t.equal(op.status, 'succeeded')
})
