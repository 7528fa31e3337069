// The instance spec the manifest builders take. Validated here, once, so every
// builder can assume a name that fits, a version the layout knows, labels the
// API server accepts and networks in CIDR notation.
import { isCidr } from '../../cidr.ts'
import { isValidInstanceName, SUPPORTED_POSTGRES_VERSIONS, INSTANCE_NAME_MAX_LENGTH } from '../instance-names.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import { CONTROLLER_LABELS, LABELS, type Mark } from './names.ts'

export interface InstanceSpec {
  namespace: string
  instance_name: string
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  /** Networks allowed to connect; null: anywhere. */
  allowed_cidrs: string[] | null
  /** Networks the control plane connects from, allowed whatever allowed_cidrs says. */
  control_plane_cidrs: string[]
  /** User labels, copied onto every object. */
  labels: Record<string, string>
  /** This instance of this control plane: on every object as labels. */
  mark: Mark
  /** Repository without tag, e.g. `postgres` or `myregistry.azurecr.io/library/postgres`. */
  image: string
  storageClass?: string | undefined
}

// k8s.io/apimachinery/pkg/util/validation: IsQualifiedName and IsValidLabelValue.
const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const RESERVED = new Set<string>([...Object.values(LABELS), ...CONTROLLER_LABELS])

/** Why a user label cannot be used, or undefined when it can. */
export function labelProblem (key: string, value: string): string | undefined {
  const slash = key.lastIndexOf('/')
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined
  const name = slash >= 0 ? key.slice(slash + 1) : key
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `label key "${key}": the prefix must be a DNS subdomain`
  if (name.length > 63 || !NAME_PART.test(name)) return `label key "${key}": the name must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`
  if (value.length > 63 || !LABEL_VALUE.test(value)) return `label "${key}": the value must be at most 63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`
  if (RESERVED.has(key) || prefix === 'toygres.io') return `label key "${key}" is Toygres's own`
  return undefined
}

/**
 * Throws PermanentProvisionerError naming the first user label Kubernetes would
 * refuse (IsQualifiedName, IsValidLabelValue in
 * k8s.io/apimachinery/pkg/util/validation) or that is Toygres's own
 * (labelProblem).
 */
export function assertValidLabels (labels: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels)) {
    const problem = labelProblem(k, v)
    if (problem) throw new PermanentProvisionerError(problem)
  }
}

/**
 * Throws PermanentProvisionerError naming the first entry that is not an IPv4
 * or IPv6 network in CIDR notation (e.g. 203.0.113.0/24, 2001:db8::/32); null
 * and [] pass.
 */
export function assertValidCidrs (cidrs: string[] | null): void {
  const bad = cidrs?.find(c => !isCidr(c))
  if (bad !== undefined) throw new PermanentProvisionerError(`allowed_cidrs: "${bad}" is not an IPv4 or IPv6 network in CIDR notation`)
}

/**
 * Throws PermanentProvisionerError for the first thing in `spec` the builders
 * cannot use: a name that is not a DNS-1035 label of at most
 * INSTANCE_NAME_MAX_LENGTH characters, a major not in
 * SUPPORTED_POSTGRES_VERSIONS, a storage_size_gb (GiB) that is not a positive
 * integer, a user label, a CIDR.
 */
export function assertValidSpec (spec: InstanceSpec): void {
  if (!isValidInstanceName(spec.instance_name)) {
    throw new PermanentProvisionerError(`instance name "${spec.instance_name}" must be a DNS-1035 label of at most ${INSTANCE_NAME_MAX_LENGTH} characters (lowercase letters, digits and "-", starting with a letter)`)
  }
  if (!(SUPPORTED_POSTGRES_VERSIONS as readonly string[]).includes(spec.postgres_version)) {
    throw new PermanentProvisionerError(`postgres_version "${spec.postgres_version}" is not one of ${SUPPORTED_POSTGRES_VERSIONS.join(', ')}`)
  }
  if (!Number.isInteger(spec.storage_size_gb) || spec.storage_size_gb < 1) {
    throw new PermanentProvisionerError(`storage_size_gb must be a positive integer, got ${spec.storage_size_gb}`)
  }
  assertValidLabels(spec.labels)
  assertValidCidrs(spec.allowed_cidrs)
}

/**
 * Where the volume is mounted and where PGDATA lives inside it. PGDATA is a
 * subdirectory because a fresh volume's root holds lost+found, which initdb
 * refuses. From 18 the official image mounts /var/lib/postgresql and uses a
 * versioned PGDATA (so pg_upgrade --link can work within one volume).
 */
export function dataLayout (version: string): { mountPath: string, pgdata: string } {
  return Number(version) >= 18
    ? { mountPath: '/var/lib/postgresql', pgdata: `/var/lib/postgresql/${version}/docker` }
    : { mountPath: '/var/lib/postgresql/data', pgdata: '/var/lib/postgresql/data/pgdata' }
}
