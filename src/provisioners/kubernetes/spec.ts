// The instance spec the manifest builders take. Validated here, once, so every
// builder can assume a name that fits and a version the layout knows.
import { isValidInstanceName, SUPPORTED_POSTGRES_VERSIONS, INSTANCE_NAME_MAX_LENGTH } from '../instance-names.ts'
import { PermanentProvisionerError } from '../provisioner.ts'

export interface InstanceSpec {
  namespace: string
  instance_name: string
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  /** Repository without tag, e.g. `postgres` or `myregistry.azurecr.io/library/postgres`. */
  image: string
  storageClass?: string | undefined
}

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
