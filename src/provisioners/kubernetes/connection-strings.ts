// Connection strings from what the cluster reports. They never carry a
// password: activity outputs are checkpointed, and whoever connects adds it.
import type { V1Service } from '@kubernetes/client-node'
import type { GetConnectionStringsOutput } from '../types.ts'
import { POSTGRES_PORT } from './names.ts'

export const connectionString = (host: string): string => `postgresql://postgres@${host}:${POSTGRES_PORT}/postgres`

/** The name Azure gives a LoadBalancer with the azure-dns-label-name annotation. */
export const azureDnsName = (dnsLabel: string, region: string): string => `${dnsLabel}.${region}.cloudapp.azure.com`

/** The load balancer's first ingress, as the cloud provider reports it: an IP, a hostname (AWS), or nothing yet. */
export function ingressOf (service: V1Service | undefined): { ip?: string, hostname?: string } | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.[0]
  return ingress?.ip || ingress?.hostname ? { ...(ingress.ip ? { ip: ingress.ip } : {}), ...(ingress.hostname ? { hostname: ingress.hostname } : {}) } : undefined
}

export function loadBalancerStrings (ingress: { ip?: string, hostname?: string }, dnsName: string | null): GetConnectionStringsOutput {
  const host = ingress.ip ?? ingress.hostname!
  // Without an Azure DNS label, a hostname ingress is the DNS name there is.
  const name = dnsName ?? ingress.hostname ?? null
  return {
    ip_connection_string: connectionString(host),
    dns_connection_string: name ? connectionString(name) : null,
    external_ip: ingress.ip ?? null,
    dns_name: name
  }
}

/**
 * A ClusterIP Service is reached only from inside the cluster, by its DNS
 * name; we use the name for both strings because a Service's ClusterIP
 * changes when it is recreated and its name does not.
 */
export function clusterStrings (service: string, namespace: string): GetConnectionStringsOutput {
  const name = `${service}.${namespace}.svc.cluster.local`
  return { ip_connection_string: connectionString(name), dns_connection_string: connectionString(name), external_ip: null, dns_name: name }
}
