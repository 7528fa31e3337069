// Shared by the Kubernetes provisioner tests: a fake cluster (the realistic
// profile unless a test says otherwise: every default path goes through the
// transient states a real cluster has), a provisioner pointed at it through
// its kubeconfig, and every log line captured so tests can prove the
// password never reaches one.
import pino from 'pino'
import { loggerOptions } from '../../../src/logging.ts'
import { createKubernetesProvisioner, type KubernetesProvisionerOptions } from '../../../src/provisioners/kubernetes/provisioner.ts'
import type { Provisioner } from '../../../src/provisioners/provisioner.ts'
import type { ActivityContext, DeploySpec } from '../../../src/provisioners/types.ts'
import { startFakeKubeApi, type FakeKubeApi, type FakeKubeApiOptions } from '../../fakes/kube-api/index.ts'
import { issue } from './authority.ts'

interface Teardown { teardown (fn: () => unknown): void }

export interface Harness { kube: FakeKubeApi, provisioner: Provisioner, logs: string[] }

export async function harness (t: Teardown, fake: FakeKubeApiOptions = {}, prov: Partial<KubernetesProvisionerOptions> = {}): Promise<Harness> {
  const kube = await startFakeKubeApi({ profile: 'realistic', ...fake })
  const logs: string[] = []
  const logger = pino(loggerOptions('debug'), { write: (line: string) => { logs.push(line) } })
  const provisioner = createKubernetesProvisioner({ kubeconfigPath: kube.kubeconfigPath, image: 'postgres', logger, controlPlaneId: 'test-plane', ...prov })
  t.teardown(async () => {
    await provisioner.close()
    await kube.close()
  })
  return { kube, provisioner, logs }
}

export const INSTANCE_ID = '00000000-0000-4000-8000-000000000001'

/** A server certificate for orders in toygres, from the control plane's real CA code. */
export const TEST_TLS = await issue({ dns: ['orders', 'orders.toygres', 'orders.toygres.svc', 'orders.toygres.svc.cluster.local'], ip: [] })

export function deployInput (over: Partial<DeploySpec> = {}): DeploySpec {
  return {
    namespace: 'toygres',
    instance_name: 'orders',
    instance_id: INSTANCE_ID,
    password: 'pw-Zq9!x@y:z/%-never-logged',
    postgres_version: '17',
    storage_size_gb: 10,
    use_load_balancer: true,
    dns_label: null,
    allowed_cidrs: null,
    labels: {},
    tls: TEST_TLS,
    ...over
  }
}

/** A step context that is never cancelled; progress reports are collected. */
export const never = (): ActivityContext & { reports: string[] } => ctxOf(new AbortController().signal)

/** A step context on `signal`; progress reports are collected in `reports`. */
export function ctxOf (signal: AbortSignal): ActivityContext & { reports: string[] } {
  const reports: string[] = []
  return { signal, progress: reason => { reports.push(reason) }, reports }
}

/** What a client does with a checkpointed connection string: adds the password, percent-encoded. */
export function withPassword (connectionString: string, password: string): string {
  const url = new URL(connectionString)
  url.password = encodeURIComponent(password)
  return url.toString()
}
