// The create and delete steps of the plan, run by activity name against the
// local provisioner: what an orchestration will do, minus the engine.
import t from 'tap'
import { activities } from '../../src/activities/names.ts'
import { createActivityRegistry } from '../../src/activities/registry.ts'
import { filesContaining, harness, deployInput, never, secretPassword } from '../provisioners/local/fixtures/helpers.ts'

t.test('every activity of the plan is registered under its name', async t => {
  const h = await harness(t, 27540, 27549)
  const registry = createActivityRegistry(h.provisioner)
  t.same(Object.keys(registry).sort(), Object.values(activities).sort())
})

t.test('create, test and delete through the registry; no output holds the password', async t => {
  const h = await harness(t, 27550, 27559)
  const registry = createActivityRegistry(h.provisioner)
  const password = secretPassword()
  const ref = { namespace: 'toygres', instance_name: 'reg' }
  const outputs: unknown[] = []
  const step = <T>(output: T): T => { outputs.push(output); return output }

  const deployed = step(await registry[activities.DEPLOY_POSTGRES](deployInput('reg', password), never))
  t.same(deployed.created, ['PortReservation/reg', 'DataDirectory/reg', 'Process/reg'])
  step(await registry[activities.WAIT_FOR_READY]({ ...ref, timeout_seconds: 60 }, never))
  const strings = step(await registry[activities.GET_CONNECTION_STRINGS]({ ...ref, use_load_balancer: false, dns_label: null }, never))
  const tested = step(await registry[activities.TEST_CONNECTION]({ connection_string: strings.ip_connection_string, password, timeout_seconds: 10 }, never))
  t.match(tested.version, /^PostgreSQL 18/)

  t.notOk(JSON.stringify(outputs).includes(password), 'outputs are checkpointed, so they carry no password')
  t.notOk(h.lines.some(line => line.includes(password)), 'nor does any log line')
  t.same(await filesContaining(h.dataDir, password), [], 'nor any file, server logs included')

  t.same(step(await registry[activities.DELETE_POSTGRES](ref, never)), { deleted: true })
  t.same(await registry[activities.DELETE_POSTGRES](ref, never), { deleted: false })
})
