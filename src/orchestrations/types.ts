// Orchestration inputs and outputs: the plan's types and field names
// (phase2-orchestrations-plan.md, Part 3). Deliberate changes: the password
// never travels in an orchestration's input (inputs are stored with the
// operation): the API seals it into the instance row and the activities
// read it back by instance_id. Defaults are applied before the operation
// starts, so a replay never depends on configuration that changed since.

/** How long each wait may take, in seconds; from configuration when the operation starts. */
export interface Timeouts {
  ready_seconds: number
  load_balancer_seconds: number
  delete_seconds: number
}

/** The plan's CreateInstanceInput, as stored: defaults applied, the password replaced by `instance_id`. */
export interface CreateInstanceInput {
  instance_id: string
  name: string
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  namespace: string
  allowed_cidrs: string[] | null
  labels: Record<string, string>
  timeouts: Timeouts
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
  /** Seconds, first step to running. */
  deployment_time_seconds: number
}

/** The plan's DeleteInstanceInput, with the instance's id (the ownership mark). */
export interface DeleteInstanceInput {
  instance_id: string
  name: string
  namespace: string
  timeouts: Timeouts
}

export interface DeleteInstanceOutput {
  instance_name: string
  /** False when nothing of the instance existed any more. */
  deleted: boolean
}

/** The plan's HealthCheckInput, plus when the next check is due. */
export interface HealthCheckInput {
  instance_id: string
  name: string
  namespace: string
  /** After every check whose verdict is unhealthy, try to bring back a server that died (TOYGRES_HEALTH_AUTO_RESTART when the monitor started). */
  auto_restart: boolean
  /** Epoch ms by the database's clock; absent: check at once. */
  due_at?: number
}

export interface HealthCheckOutput {
  instance_id: string
  /** Why the monitor ended. */
  stopped: string
}

/** What every day-2 orchestration takes: the instance, how to reach it, and its deadlines. */
export interface InstanceChangeInput {
  instance_id: string
  name: string
  namespace: string
  timeouts: Timeouts
}

export interface RestartInstanceOutput {
  instance_name: string
  /** The new server process: a pid locally, a pod uid on Kubernetes. */
  process: string
}

export interface InstanceChangeOutput {
  instance_name: string
  /** What changed, in words. */
  changes: string[]
}

/** PATCH /instances/{name}: each field present is a change to make on the server. */
export interface UpdateInstanceInput extends InstanceChangeInput {
  parameters?: Record<string, string | null>
  /** After parameters: "restart" restarts the server when a change needs it; "reload" (default) does not. */
  apply?: 'reload' | 'restart'
  storage_size_gb?: number
  labels?: Record<string, string>
  allowed_cidrs?: string[] | null
}
