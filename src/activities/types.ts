// Every activity the orchestrations call, in one type. Inputs and outputs keep
// the plan's names and snake_case fields (phase2-orchestrations-plan.md).
// Deliberate change from the plan: no input or output carries a password or a
// private key. Inputs carry the instance's id; the adapters (index.ts) read
// the sealed password and issue TLS material at run time, so neither is
// ever part of a step, a log line or a checkpoint.
import type { AppliedSettings, Transition } from '../db/instance-changes.ts'
import type { HealthVerdict } from '../db/health-checks.ts'
import type { InstanceHealth, InstanceState } from '../db/instances.ts'
import type {
  ActivityContext, ApplyLabelsInput, ApplyNetworkInput, ChangeOutput, DeletePostgresInput, DeletePostgresOutput, DeploySpec,
  DeployPostgresOutput, GetConnectionStringsInput, GetConnectionStringsOutput, OwnedRef, ResizeStorageInput, RestartOutput,
  WaitForReadyInput, WaitForReadyOutput
} from '../provisioners/types.ts'
import type { CheckHealthOutput } from './check-health.ts'

export type {
  ActivityContext, DeletePostgresInput, DeletePostgresOutput, DeployPostgresOutput, GetConnectionStringsInput,
  GetConnectionStringsOutput, OwnedRef, WaitForReadyInput, WaitForReadyOutput
} from '../provisioners/types.ts'
export type { CheckHealthOutput } from './check-health.ts'
export type { HealthVerdict } from '../db/health-checks.ts'

/** The plan's DeployPostgresInput without the password (and TLS material): the adapter adds both. */
export type DeployPostgresInput = Omit<DeploySpec, 'password' | 'tls'>

/** The plan's TestConnectionInput, by instance: the adapter adds the password and the CA. */
export interface TestConnectionInput {
  instance_id: string
  connection_string: string
  /** Tried when `connection_string` names a host that does not resolve yet (a new DNS label). */
  fallback_connection_string?: string | null
  timeout_seconds?: number
}

export interface TestConnectionOutput {
  /** `SELECT version()` */
  version: string
}

export interface InstanceIdInput {
  instance_id: string
}

export interface MarkRunningInput extends InstanceIdInput {
  ip_connection_string: string
  dns_connection_string: string | null
  external_ip: string | null
  dns_name: string | null
  server_version: string
  deployment_time_seconds: number
}

export interface MarkFailedInput extends InstanceIdInput {
  /** The step that failed, or null when the orchestration failed outside a step. */
  step: string | null
  message: string
}

export interface RecordHealthInput extends InstanceIdInput {
  result: CheckHealthOutput
  /** When the check was due (epoch ms, database clock); null or absent for a monitor's first check. */
  due_at_ms?: number | null
}

/** What record-health returns: the verdict, and the database's time of the check (epoch ms). */
export interface RecordHealthOutput extends Omit<HealthVerdict, 'checked_at'> {
  checked_at_ms: number
}

export interface RecoverOutput {
  restarted: boolean
  error: string | null
}

export interface SetStateInput extends InstanceIdInput {
  /** The states the change may start from; anything else leaves the instance as it is. */
  from: InstanceState[]
  to: InstanceState
  /** Set with it (e.g. stopped). */
  health?: InstanceHealth
  /** Kept on the instance (why the last change failed), or cleared with null. */
  error?: { step: string | null, message: string } | null
}

/** Timed day-2 call on the server: the instance, and how long the wait may take. */
export interface TimedRef extends OwnedRef {
  timeout_seconds: number
}

export interface ApplyParametersInput extends InstanceIdInput {
  /** Name → value; null resets the parameter to its default. */
  parameters: Record<string, string | null>
}

export interface ApplyParametersOutput {
  /** Whether any setting waits for a restart (pg_settings.pending_restart). */
  pending_restart: boolean
  /** The values the server reports for the parameters changed (with their unit). */
  settings: Record<string, string>
}

export interface RecordSettingsInput extends InstanceIdInput, AppliedSettings {}

/**
 * The activities. Each takes its input and the step's context (signal and
 * progress reporting), and is idempotent: a replay after a crash may run it
 * again before its checkpoint was written.
 */
export interface Activities {
  /** deploy-postgres. Throws a non-retryable error for a bad spec or an object someone else owns. */
  deployPostgres (input: DeployPostgresInput, ctx: ActivityContext): Promise<DeployPostgresOutput>
  /** wait-for-ready, until `timeout_seconds`, reporting what it waits for. */
  waitForReady (input: WaitForReadyInput, ctx: ActivityContext): Promise<WaitForReadyOutput>
  getConnectionStrings (input: GetConnectionStringsInput, ctx: ActivityContext): Promise<GetConnectionStringsOutput>
  /** test-connection: logs in with the instance's password, over TLS verified against our CA. */
  testConnection (input: TestConnectionInput, ctx: ActivityContext): Promise<TestConnectionOutput>
  deletePostgres (input: DeletePostgresInput, ctx: ActivityContext): Promise<DeletePostgresOutput>
  /** creating → running, with the connection info; false when the instance moved on (a delete overtook it). */
  markRunning (input: MarkRunningInput, ctx: ActivityContext): Promise<boolean>
  /** creating → failed, with the failing step and a readable message; false when it moved on. */
  markFailed (input: MarkFailedInput, ctx: ActivityContext): Promise<boolean>
  /** The end of a delete: the row and its history go, the name is free. */
  removeMetadata (input: InstanceIdInput, ctx: ActivityContext): Promise<boolean>
  /** Starts the instance's health monitor unless a live one exists; its operation id, or null when not running. */
  startHealthCheck (input: InstanceIdInput, ctx: ActivityContext): Promise<string | null>
  /** Cancels the instance's live monitors. */
  stopHealthCheck (input: InstanceIdInput, ctx: ActivityContext): Promise<void>
  /** Probes a running instance; null when it is gone or not running. Never throws for a failed probe. */
  checkHealth (input: InstanceIdInput, ctx: ActivityContext): Promise<CheckHealthOutput | null>
  /** Records a check and moves the verdict; null when the instance is no longer running. */
  recordHealth (input: RecordHealthInput, ctx: ActivityContext): Promise<RecordHealthOutput | null>
  /** Auto-restart of an unhealthy instance whose server died. Never throws for a failed restart. */
  recoverInstance (input: OwnedRef, ctx: ActivityContext): Promise<RecoverOutput>

  /** Moves the instance between states (guarded by the database) when it is in one of `from`; says whether it did, and from which state. */
  setState (input: SetStateInput, ctx: ActivityContext): Promise<Transition>
  /** deleting → delete_failed, with why. */
  markDeleteFailed (input: MarkFailedInput, ctx: ActivityContext): Promise<boolean>
  restartPostgres (input: TimedRef, ctx: ActivityContext): Promise<RestartOutput>
  stopPostgres (input: TimedRef, ctx: ActivityContext): Promise<ChangeOutput>
  startPostgres (input: TimedRef, ctx: ActivityContext): Promise<ChangeOutput>
  /** ALTER SYSTEM and reload, on the instance; reports what still needs a restart. */
  applyParameters (input: ApplyParametersInput, ctx: ActivityContext): Promise<ApplyParametersOutput>
  /** Sets the pending password on the server (as a SCRAM verifier); idempotent across a crash half-way. */
  changePassword (input: InstanceIdInput, ctx: ActivityContext): Promise<ChangeOutput>
  /** Keeps the pending password where the platform keeps it (the Kubernetes Secret). */
  storePassword (input: OwnedRef, ctx: ActivityContext): Promise<ChangeOutput>
  /** The pending password becomes the instance's password. */
  commitPassword (input: InstanceIdInput, ctx: ActivityContext): Promise<boolean>
  /** A reset that failed or was cancelled: the pending password is dropped; the old one still works. */
  discardPassword (input: InstanceIdInput, ctx: ActivityContext): Promise<void>
  resizeStorage (input: ResizeStorageInput, ctx: ActivityContext): Promise<ChangeOutput>
  applyLabels (input: ApplyLabelsInput, ctx: ActivityContext): Promise<ChangeOutput>
  /** The provisioner's rules, then a configuration reload once the server's pg_hba.conf shows them. */
  applyNetwork (input: ApplyNetworkInput & { timeout_seconds: number }, ctx: ActivityContext): Promise<ChangeOutput>
  /** What a change applied, onto the instance's metadata. */
  recordSettings (input: RecordSettingsInput, ctx: ActivityContext): Promise<void>
}
