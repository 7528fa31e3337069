// No cluster, or one that does not answer: said plainly at boot, in
// unreachableReason (/readyz) and by every call, naming the places looked at,
// instead of client-node's fallback to http://localhost:8080.
import t from 'tap'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { loggerOptions } from '../../../src/logging.ts'
import { createKubernetesProvisioner } from '../../../src/provisioners/kubernetes/provisioner.ts'
import { startFakeKubeApi } from '../../fakes/kube-api/index.ts'
import { deployInput, never } from './helpers.ts'

function make (kubeconfigPath: string | undefined) {
  const logs: string[] = []
  const logger = pino(loggerOptions('info'), { write: (line: string) => { logs.push(line) } })
  return { provisioner: createKubernetesProvisioner({ kubeconfigPath, logger, controlPlaneId: 'p' }), logs }
}

const signal = (): AbortSignal => AbortSignal.timeout(5000)

async function kubeconfig (server: string, extra = ''): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'))
  const path = join(dir, 'config')
  await writeFile(path, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${server}"${extra} } }]
users: [{ name: u, user: { token: abc } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`)
  return path
}

t.test('no kubeconfig anywhere: every place looked at is named', async t => {
  const home = await mkdtemp(join(tmpdir(), 'home-'))
  const saved = process.env.HOME
  process.env.HOME = home
  t.teardown(() => { process.env.HOME = saved })
  const { provisioner, logs } = make(undefined)
  const reason = `no Kubernetes cluster configured: looked for KUBECONFIG (not set), ${home}/.kube/config (does not exist) and the in-cluster service account token /var/run/secrets/kubernetes.io/serviceaccount/token (not running in a pod); set KUBECONFIG to a kubeconfig file`
  t.equal(await provisioner.unreachableReason(signal()), reason)
  t.ok(logs.some(l => l.includes(reason) && l.includes('"level":50')), 'said at boot, as an error')
  await t.rejects(provisioner.deployPostgres(deployInput(), never()), { name: 'PermanentProvisionerError', message: reason })
  await t.rejects(provisioner.deletePostgres({ namespace: 'toygres', instance_name: 'orders', instance_id: 'x', timeout_seconds: 1 }, never()), { message: reason })
})

t.test('KUBECONFIG names a file that does not exist', async t => {
  const { provisioner } = make('/nowhere/kubeconfig')
  t.equal(await provisioner.unreachableReason(signal()), 'no Kubernetes cluster configured: KUBECONFIG names /nowhere/kubeconfig, which does not exist')
})

t.test('a plain http server without insecure-skip-tls-verify is refused before any call', async t => {
  const path = await kubeconfig('http://127.0.0.1:8080')
  const { provisioner } = make(path)
  t.match(await provisioner.unreachableReason(signal()), /points at http:\/\/127\.0\.0\.1:8080, plain HTTP, which @kubernetes\/client-node only accepts with insecure-skip-tls-verify: true/)
})

t.test('a cluster that does not answer, and one that refuses our token', async t => {
  const closed = await kubeconfig('http://127.0.0.1:9', ', insecure-skip-tls-verify: true')
  t.match(await make(closed).provisioner.unreachableReason(signal()), new RegExp(`^the Kubernetes API at http://127\\.0\\.0\\.1:9 \\(from KUBECONFIG=${closed}, context x\\) is not reachable: `))

  const kube = await startFakeKubeApi({ profile: 'realistic' })
  t.teardown(() => kube.close())
  t.equal(await make(kube.kubeconfigPath).provisioner.unreachableReason(signal()), null, 'the real one answers')
  const wrongToken = join(await mkdtemp(join(tmpdir(), 'kc-')), 'config')
  await writeFile(wrongToken, (await readFile(kube.kubeconfigPath, 'utf8')).replace(/token: \w+/, 'token: wrong'))
  t.match(await make(wrongToken).provisioner.unreachableReason(signal()), /refused our credentials \(401 Unauthorized\)$/)
})
