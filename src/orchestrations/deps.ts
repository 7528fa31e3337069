// What the orchestrations call. Everything here runs inside ctx.step, so its
// result is checkpointed and a replay never repeats it.
import type {
  DeletePostgresInput, DeletePostgresOutput, DeployPostgresInput, DeployPostgresOutput, GetConnectionStringsInput,
  GetConnectionStringsOutput, TestConnectionInput, TestConnectionOutput, WaitForReadyInput, WaitForReadyOutput
} from '../activities/types.ts'
import type { RunningInfo } from '../instances/store.ts'

export interface Activities {
  deployPostgres (input: DeployPostgresInput, signal: AbortSignal): Promise<DeployPostgresOutput>
  waitForReady (input: WaitForReadyInput, signal: AbortSignal): Promise<WaitForReadyOutput>
  getConnectionStrings (input: GetConnectionStringsInput, signal: AbortSignal): Promise<GetConnectionStringsOutput>
  testConnection (input: TestConnectionInput, signal: AbortSignal): Promise<TestConnectionOutput>
  deletePostgres (input: DeletePostgresInput, signal: AbortSignal): Promise<DeletePostgresOutput>
}

/** Metadata activities over toygres.instances. */
export interface InstanceActivities {
  /** Decrypted at run time; never returned from a step. */
  password (instanceId: string): Promise<string>
  markRunning (instanceId: string, info: RunningInfo): Promise<boolean>
  markFailed (instanceId: string, error: { step: string | null, message: string }): Promise<boolean>
  remove (instanceId: string): Promise<boolean>
}

export interface HealthActivities {
  /** Starts the instance's monitor (idempotent); returns its operation id. */
  start (instanceId: string): Promise<string | null>
  /** Cancels the instance's monitor, if any. */
  stop (instanceId: string): Promise<void>
}

export interface OrchestrationDeps {
  readonly activities: Activities
  readonly instances: InstanceActivities
  readonly health: HealthActivities
  /** wait-for-ready's timeout; the plan's 5 minutes by default. */
  readonly readyTimeoutSeconds: number
}
