// Orchestration inputs and outputs: the plan's types and field names.
// One deliberate change: the password never travels in an orchestration's
// input (inputs are stored with the operation). The API encrypts it into the
// instance row; the deploy and test steps read it back at run time by
// instance_id, so a replay after a crash can still deploy.

/** The plan's CreateInstanceInput, as POST /instances takes it. */
export interface CreateInstanceInput {
  name: string
  /** Optional at the API: when omitted a strong one is generated and returned once. */
  password?: string
  postgres_version?: string
  storage_size_gb?: number
  use_load_balancer?: boolean
  dns_label?: string | null
  namespace?: string
}

/** What the create-instance operation stores: defaults applied, password replaced by instance_id. */
export interface CreateInstanceOrchestrationInput {
  instance_id: string
  name: string
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  namespace: string
}

export interface CreateInstanceOutput {
  instance_name: string
  namespace: string
  ip_connection_string: string
  dns_connection_string: string | null
  external_ip: string | null
  dns_name: string | null
  /** From SELECT version() */
  postgres_version: string
  deployment_time_seconds: number
}

export interface DeleteInstanceInput {
  name: string
  namespace?: string
}

export interface DeleteInstanceOrchestrationInput {
  instance_id: string
  name: string
  namespace: string
}

export interface DeleteInstanceOutput {
  instance_name: string
  deleted: boolean
}

export interface HealthCheckInput {
  instance_id: string
  name: string
  namespace: string
}
