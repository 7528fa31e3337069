// get-connection-strings: the Service's address. A cloud load balancer can
// take minutes to get one, so we watch the Service until its ingress appears
// or the deadline passes, saying meanwhile what the service controller says
// (EnsuringLoadBalancer, SyncLoadBalancerFailed...).
import type { V1Service } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { ActivityContext, GetConnectionStringsInput, GetConnectionStringsOutput } from '../types.ts'
import { markFor, type Kube } from './context.ts'
import { clusterStrings, ingressOf, loadBalancerStrings, type Ingress } from './connection-strings.ts'
import { eventsAbout, latestWarning } from './events.ts'
import { objectNames } from './names.ts'
import { assertOurs } from './ownership.ts'
import { waitFor } from './wait.ts'

/**
 * get-connection-strings on Kubernetes. Without a load balancer: the ClusterIP
 * Service's DNS name, at once. With one: waits up to `input.timeout_seconds`
 * seconds for the Service's first ingress, then its address, and a DNS name
 * (for a dns_label the Azure name `dnsName` gives, else the ingress hostname,
 * if any). Throws PermanentProvisionerError when the Service is missing, not
 * this instance's, or not a LoadBalancer when one was asked for;
 * WaitTimeoutError at the deadline.
 */
export async function connectionStrings (k: Kube, input: GetConnectionStringsInput, ctx: ActivityContext, dnsName: (label: string) => Promise<string>): Promise<GetConnectionStringsOutput> {
  const ns = input.namespace
  const name = objectNames(input.instance_name).service
  const mark = markFor(k, input)
  const { signal } = ctx
  const service = await k.client.read<V1Service>('Service', ns, name, signal)
  if (!service) throw new PermanentProvisionerError(`Service ${ns}/${name} not found: deploy-postgres first`)
  assertOurs('Service', service, ns, mark)
  if (!input.use_load_balancer) return clusterStrings(name, ns, k.clusterDomain)
  if (service.spec?.type !== 'LoadBalancer') throw new PermanentProvisionerError(`Service ${ns}/${name} is of type ${service.spec?.type}, not LoadBalancer`)
  const ingress = await waitFor<Ingress>(k.kc, {
    what: `the load balancer of Service ${ns}/${name} to get an address`,
    timeoutSeconds: input.timeout_seconds,
    ctx,
    watch: [{ path: k.client.path('Service', ns), fieldSelector: `metadata.name=${name}` }],
    evaluate: async () => {
      const svc = await k.client.read<V1Service>('Service', ns, name, signal)
      if (!svc) return { fail: new PermanentProvisionerError(`Service ${ns}/${name} was deleted while waiting for its address`) }
      const found = ingressOf(svc)
      if (found) return { done: found }
      const warning = latestWarning(await eventsAbout(k.client, ns, 'Service', name, svc.metadata?.uid, signal))
      return { waiting: `waiting for the load balancer's address${warning ? `: ${warning.reason}: ${warning.message}` : ''}` }
    }
  })
  const out = loadBalancerStrings(ingress, input.dns_label ? await dnsName(input.dns_label) : null)
  k.log.info({ namespace: ns, instance: input.instance_name, ...out }, 'kubernetes: connection strings')
  return out
}
