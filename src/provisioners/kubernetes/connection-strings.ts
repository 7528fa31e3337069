// Connection strings from what the cluster reports. They never carry a
// password (activity outputs are checkpointed; whoever connects adds it),
// and always sslmode=require: the server only accepts TLS (pg-hba.ts).
// Clients that hold the CA verify it with sslmode=verify-ca sslrootcert=...
import type { V1Service } from '@kubernetes/client-node'
import type { GetConnectionStringsOutput } from '../types.ts'
import { POSTGRES_PORT } from './names.ts'

/**
 * postgresql://postgres@<host>:5432/postgres?sslmode=require, with an IPv6
 * address in brackets (RFC 3986 section 3.2.2); never a password.
 */
export const connectionString = (host: string): string => `postgresql://postgres@${host.includes(':') ? `[${host}]` : host}:${POSTGRES_PORT}/postgres?sslmode=require`

/** The name Azure gives a LoadBalancer with the azure-dns-label-name annotation. */
export const azureDnsName = (dnsLabel: string, region: string): string => `${dnsLabel}.${region}.cloudapp.azure.com`

export interface Ingress { ip?: string, hostname?: string }

/**
 * The load balancer's first ingress, as the cloud provider reports it: an IP
 * (Azure, GCP), a hostname (AWS ELB/NLB), or nothing yet.
 */
export function ingressOf (service: V1Service | undefined): Ingress | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.find(i => i.ip || i.hostname)
  if (!ingress) return undefined
  return { ...(ingress.ip ? { ip: ingress.ip } : {}), ...(ingress.hostname ? { hostname: ingress.hostname } : {}) }
}

/**
 * A hostname ingress is reported as a name, never as external_ip: AWS gives
 * no stable address, only a name that may take minutes to resolve (the
 * test-connection step retries ENOTFOUND and falls back to the address).
 */
export function loadBalancerStrings (ingress: Ingress, dnsName: string | null): GetConnectionStringsOutput {
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
export function clusterStrings (service: string, namespace: string, clusterDomain: string): GetConnectionStringsOutput {
  const name = `${service}.${namespace}.svc.${clusterDomain}`
  return { ip_connection_string: connectionString(name), dns_connection_string: connectionString(name), external_ip: null, dns_name: name }
}

/** Every name a client inside the cluster may use for the Service, for the server certificate. */
export function serviceDnsNames (service: string, namespace: string, clusterDomain: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`]
}
