// Activity inputs and outputs: the plan's field names (snake_case JSON).
// Deliberate change from the plan: no output carries a password, because
// activity outputs are checkpointed. Inputs are never stored, so a password
// may appear in an input; the caller reads it from the secret store at run time.

export interface DeployPostgresInput {
  namespace: string
  instance_name: string
  password: string
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
}

export interface DeployPostgresOutput {
  instance_name: string
  namespace: string
  /** Objects this call created, e.g. ["Secret/pg-x", "StatefulSet/pg-x"]. */
  created: string[]
  /** Objects that already existed and were left as they were. */
  existing: string[]
}

export interface WaitForReadyInput {
  namespace: string
  instance_name: string
  timeout_seconds: number
}

export interface WaitForReadyOutput {
  ready: boolean
  pod_name: string
  elapsed_seconds: number
}

export interface GetConnectionStringsInput {
  namespace: string
  instance_name: string
  use_load_balancer: boolean
  dns_label: string | null
}

export interface GetConnectionStringsOutput {
  /** postgresql://postgres@<ip-or-host>:<port>/postgres, never a password. */
  ip_connection_string: string
  dns_connection_string: string | null
  external_ip: string | null
  dns_name: string | null
}

export interface TestConnectionInput {
  connection_string: string
  /** Added at run time from the secret store; never checkpointed. */
  password: string
  timeout_seconds?: number
}

export interface TestConnectionOutput {
  /** `SELECT version()` */
  version: string
}

export interface DeletePostgresInput {
  namespace: string
  instance_name: string
}

export interface DeletePostgresOutput {
  deleted: boolean
}

export interface InstanceRef {
  namespace: string
  instance_name: string
}
