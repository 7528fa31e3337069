// apply-network: allowed_cidrs onto the LoadBalancer Service (the cloud's
// firewall) and into pg_hba.conf (the server's own check). The kubelet
// rewrites the mounted ConfigMap within its sync period plus its cache's
// TTL (about a minute; pkg/kubelet/configmap); the caller reloads the
// server's configuration once the file shows the new rules.
import type { V1ConfigMap, V1Service } from '@kubernetes/client-node'
import type { ActivityContext, ApplyNetworkInput, ChangeOutput } from '../types.ts'
import { readOwned, type Kube } from './context.ts'
import { loadBalancerNetwork, PG_HBA_KEY } from './manifests.ts'
import { objectNames } from './names.ts'
import { pgHbaConf } from './pg-hba.ts'
import { assertValidCidrs } from './spec.ts'

const sameRanges = (a: string[] | undefined, b: string[] | undefined): boolean => JSON.stringify(a ?? []) === JSON.stringify(b ?? [])

/**
 * apply-network on Kubernetes: writes pg_hba.conf into the instance's ConfigMap
 * and, for a LoadBalancer Service, its source ranges and traffic policy, each
 * only when it differs. Does not reload the server (see above). Throws
 * PermanentProvisionerError for a value that is not a CIDR, and when the
 * ConfigMap or the Service is missing or not this instance's.
 */
export async function applyNetwork (k: Kube, input: ApplyNetworkInput, ctx: ActivityContext): Promise<ChangeOutput> {
  assertValidCidrs(input.allowed_cidrs)
  const names = objectNames(input.instance_name)
  const { signal } = ctx
  const configMap = await readOwned<V1ConfigMap>(k, 'ConfigMap', input, names.configMap, signal)
  const service = await readOwned<V1Service>(k, 'Service', input, names.service, signal)
  const changed: string[] = []
  const hba = pgHbaConf(input.allowed_cidrs, k.controlPlaneCidrs)
  if (configMap.data?.[PG_HBA_KEY] !== hba) {
    await k.client.patch('ConfigMap', input.namespace, names.configMap, { data: { [PG_HBA_KEY]: hba } }, signal)
    changed.push(`pg_hba.conf in ConfigMap ${names.configMap}`)
  }
  if (service.spec?.type === 'LoadBalancer') {
    const wanted = loadBalancerNetwork(input.allowed_cidrs)
    if (!sameRanges(service.spec.loadBalancerSourceRanges, wanted.loadBalancerSourceRanges) || service.spec.externalTrafficPolicy !== wanted.externalTrafficPolicy) {
      // null removes the field in a merge patch: no ranges, open.
      await k.client.patch('Service', input.namespace, names.service, { spec: { externalTrafficPolicy: wanted.externalTrafficPolicy, loadBalancerSourceRanges: wanted.loadBalancerSourceRanges ?? null } }, signal)
      changed.push(`loadBalancerSourceRanges of Service ${names.service}`)
    }
  }
  const networks = input.allowed_cidrs === null ? 'any network' : input.allowed_cidrs.join(', ') || 'no network'
  return {
    changed: changed.length > 0,
    detail: changed.length > 0
      ? `${changed.join(' and ')} now allow ${networks}; the kubelet writes pg_hba.conf into the pod within about a minute, then reload the server's configuration`
      : `already allowing ${networks}`
  }
}
