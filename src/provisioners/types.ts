// What provisioners take and return: the plan's activity types
// (phase2-orchestrations-plan.md, Part 3 and the activities crate), in the
// plan's snake_case field names, plus what production needs on top (an
// ownership mark, TLS material, network and labels). Outputs never carry a
// password or a private key: activity outputs are checkpointed.

/**
 * What a provisioner method gets besides its input. The engine's
 * StepContext satisfies it.
 */
export interface ActivityContext {
  /** Aborted on cancel and on the step's timeout: stop waiting, leave things consistent. */
  readonly signal: AbortSignal
  /**
   * Says what the call is waiting for now, in the platform's own words
   * ("PersistentVolumeClaim data-orders-0 is not bound yet"). Call it when
   * the reason changes; the engine shows it in the step timeline.
   */
  progress (reason: string): void
}

export interface InstanceRef {
  namespace: string
  instance_name: string
}

/**
 * An instance as the provisioner knows it: its name, and its id, the mark
 * that proves an object or a directory belongs to it. Nothing without that
 * mark is ever adopted, changed or removed.
 */
export interface OwnedRef extends InstanceRef {
  instance_id: string
}

/** A server certificate issued by the control plane's CA for one instance (PEM). */
export interface TlsMaterial {
  ca_pem: string
  cert_pem: string
  key_pem: string
}

/** The plan's DeployPostgresInput as the provisioner needs it: with the password and TLS material, read from the secret store at run time. */
export interface DeploySpec extends OwnedRef {
  password: string
  /** A major version, e.g. "18"; validated against supportedVersions() before any create. */
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  /** Networks allowed to connect (IPv4/IPv6 CIDRs); null: anywhere. */
  allowed_cidrs: string[] | null
  /** User labels, copied onto every object made (Kubernetes label syntax). */
  labels: Record<string, string>
  tls: TlsMaterial
}

export interface DeployPostgresOutput {
  instance_name: string
  namespace: string
  /** Objects this call created, e.g. ["Secret/orders-credentials", "StatefulSet/orders"]. */
  created: string[]
  /** Objects that already existed with this instance's mark, and were left as they were. */
  existing: string[]
}

export interface WaitForReadyInput extends OwnedRef {
  /** Seconds before the wait fails with the last reason seen. */
  timeout_seconds: number
}

export interface WaitForReadyOutput {
  ready: boolean
  /** The pod (or, locally, the instance) that became ready. */
  pod_name: string
  elapsed_seconds: number
}

export interface GetConnectionStringsInput extends OwnedRef {
  use_load_balancer: boolean
  dns_label: string | null
  /** Seconds to wait for a load balancer address. */
  timeout_seconds: number
}

export interface GetConnectionStringsOutput {
  /** postgresql://postgres@<ip-or-host>:<port>/postgres?sslmode=require, never a password. */
  ip_connection_string: string
  dns_connection_string: string | null
  external_ip: string | null
  dns_name: string | null
}

export interface DeletePostgresInput extends OwnedRef {
  /** Seconds to wait for every object to be gone (finalizers). */
  timeout_seconds: number
}

export interface DeletePostgresOutput {
  /** False when nothing of this instance existed. */
  deleted: boolean
}

/** The host names and addresses a server certificate must carry for this instance. */
export interface ServerNames {
  dns: string[]
  ip: string[]
}

/** A day-2 action's result: what changed, in words for the step timeline. */
export interface ChangeOutput {
  changed: boolean
  detail: string
}

export interface RestartOutput {
  /** The new server process: a pid locally, a pod uid on Kubernetes. */
  process: string
}

export interface ResizeStorageInput extends OwnedRef {
  storage_size_gb: number
  /** Seconds to wait for the volume (and its file system) to reach the new size. */
  timeout_seconds: number
}

export interface ApplyLabelsInput extends OwnedRef {
  labels: Record<string, string>
}

export interface ApplyNetworkInput extends OwnedRef {
  allowed_cidrs: string[] | null
}

export interface SetPasswordInput extends OwnedRef {
  /** Kept where the platform keeps it (a Kubernetes Secret); the server's own role is changed over SQL by the activity. */
  password: string
}

export interface LogsInput extends OwnedRef {
  /** Lines from the end; default 200. */
  tail: number
  follow: boolean
}
