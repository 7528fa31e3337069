// The statements day-2 changes run on an instance, on a real server.
import pg from 'pg'
import t from 'tap'
import { alterSystem, confLoadTime, reloaded } from '../../src/activities/instance-sql.ts'
import { startThrowawayCluster } from '../helpers/throwaway-cluster.ts'

t.test('a reload is waited for: not before the server re-read its files, and at once after', async t => {
  const server = await startThrowawayCluster('toygres-sql-', 'reload-test-pw')
  t.teardown(() => server.stop())
  const client = new pg.Client({ connectionString: server.url })
  await client.connect()
  t.teardown(() => client.end())

  // pg_conf_load_time() has microseconds; compared as a millisecond Date, "later than before" was true at once.
  const before = await confLoadTime(client)
  await t.rejects(reloaded(client, before, AbortSignal.timeout(300)), { name: /AbortError|TimeoutError/ }, 'no reload yet: still waiting')
  await client.query('SELECT pg_reload_conf()')
  await reloaded(client, before, AbortSignal.timeout(10_000))
  t.pass('the reload is seen')

  const applied = await alterSystem(client, { work_mem: '7MB' }, AbortSignal.timeout(10_000))
  t.equal((await client.query('SHOW work_mem')).rows[0].work_mem, '7MB', 'this session runs with the new value when alterSystem returns')
  t.equal(applied.pending_restart, false)
  const pending = await alterSystem(client, { shared_buffers: '64MB' }, AbortSignal.timeout(10_000))
  t.equal(pending.pending_restart, true, 'a restart-time setting says so')
})
