// The promise of the design, at the level a user sees: a control plane
// SIGKILLed in the middle of a create is replaced by another, which resumes
// the operation where it stopped. Finished steps are not run again.
import t from 'tap'
import { activityNames as activities } from '../../src/activities/names.ts'
import { startFakeKubeApi } from '../fakes/kube-api/index.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { freePort } from '../helpers/ports.ts'
import { spawnServer, waitForOk } from '../helpers/server-process.ts'

interface Step { name: string, status: string, attempts: number }

t.test('SIGKILL during wait-for-ready; a second control plane finishes the create', async t => {
  // Pods stay Pending until the test starts them: the create is parked in wait-for-ready.
  const kube = await startFakeKubeApi({ realPostgres: true, kubelet: 'manual' })
  t.teardown(() => kube.close())
  const env = {
    DATABASE_URL: await createTestDatabase(t),
    TOYGRES_PROVISIONER: 'kubernetes',
    KUBECONFIG: kube.kubeconfigPath,
    TOYGRES_WORKER_CONCURRENCY: '2',
    TOYGRES_HEARTBEAT_SECONDS: '10',
    TOYGRES_SECRET_KEY: 'a'.repeat(64)
  }
  const first = spawnServer(env, await freePort())
  t.teardown(() => { first.child.kill('SIGKILL') })
  await waitForOk(first, '/readyz')

  const created = await fetch(`${first.url}/instances`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'survivor', use_load_balancer: true }) })
  t.equal(created.status, 202)
  const opId = (await created.json() as { operation: { id: string } }).operation.id
  const steps = async (url: string): Promise<Step[]> => ((await (await fetch(`${url}/operations/${opId}`)).json()) as { steps: Step[] }).steps
  await pollUntil(() => steps(first.url), s => s.some(x => x.name === activities.DEPLOY_POSTGRES && x.status === 'succeeded'), { what: 'deploy done' })
  t.ok(kube.state.get('statefulsets', 'toygres', 'survivor'), 'deploy created the StatefulSet')

  first.child.kill('SIGKILL')
  await first.exited

  const second = spawnServer(env, await freePort())
  t.teardown(() => { second.child.kill('SIGKILL') })
  await waitForOk(second, '/readyz')
  await kube.startPod('toygres', 'survivor-0')

  const running = await pollUntil(async () => (await (await fetch(`${second.url}/instances/survivor`)).json()) as { state: string, operation: { steps: Step[] } },
    i => i.state !== 'creating', { what: 'running after the takeover', timeoutMs: 120_000 })
  t.equal(running.state, 'running', JSON.stringify((running as any).error))
  const deploys = running.operation.steps.filter(s => s.name === activities.DEPLOY_POSTGRES)
  t.equal(deploys.length, 1)
  t.equal(deploys[0]!.attempts, 1, 'the finished deploy step was not run again')
  t.ok(running.operation.steps.some(s => s.name === activities.TEST_CONNECTION && s.status === 'succeeded'))

  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
})
