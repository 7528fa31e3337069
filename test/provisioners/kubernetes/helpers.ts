// Shared by the Kubernetes provisioner tests: a fake cluster, a provisioner
// pointed at it through its kubeconfig, and every log line captured so tests
// can prove the password never reaches one.
import pino from 'pino'
import { loggerOptions } from '../../../src/logging.ts'
import { createKubernetesProvisioner, type KubernetesProvisionerOptions } from '../../../src/provisioners/kubernetes/provisioner.ts'
import type { Provisioner } from '../../../src/provisioners/provisioner.ts'
import type { DeployPostgresInput } from '../../../src/activities/types.ts'
import { startFakeKubeApi, type FakeKubeApi, type FakeKubeApiOptions } from '../../fakes/kube-api/index.ts'

interface Teardown { teardown (fn: () => unknown): void }

export interface Harness { kube: FakeKubeApi, provisioner: Provisioner, logs: string[] }

export async function harness (t: Teardown, fake: FakeKubeApiOptions = {}, prov: Partial<KubernetesProvisionerOptions> = {}): Promise<Harness> {
  const kube = await startFakeKubeApi(fake)
  const logs: string[] = []
  const logger = pino(loggerOptions('debug'), { write: (line: string) => { logs.push(line) } })
  const provisioner = createKubernetesProvisioner({ kubeconfigPath: kube.kubeconfigPath, image: 'postgres', logger, ...prov })
  t.teardown(async () => {
    await provisioner.close()
    await kube.close()
  })
  return { kube, provisioner, logs }
}

export function deployInput (over: Partial<DeployPostgresInput> = {}): DeployPostgresInput {
  return {
    namespace: 'toygres',
    instance_name: 'orders',
    password: 'pw-Zq9!x@y:z/%-never-logged',
    postgres_version: '17',
    storage_size_gb: 10,
    use_load_balancer: true,
    dns_label: null,
    ...over
  }
}

export const never = (): AbortSignal => new AbortController().signal

/** What a client does with a checkpointed connection string: adds the password, percent-encoded. */
export function withPassword (connectionString: string, password: string): string {
  const url = new URL(connectionString)
  url.password = encodeURIComponent(password)
  return url.toString()
}
