// What the activities need from a place that runs PostgreSQL. Two
// implementations: kubernetes (production) and local (the embedded default).
// Every method is idempotent: a repeat, or a re-run after a crash half-way,
// converges to the same result.
import type {
  DeletePostgresInput, DeletePostgresOutput, DeployPostgresInput, DeployPostgresOutput,
  GetConnectionStringsInput, GetConnectionStringsOutput, InstanceRef, WaitForReadyInput, WaitForReadyOutput
} from '../activities/types.ts'

export interface Provisioner {
  readonly kind: 'local' | 'kubernetes'
  deployPostgres (input: DeployPostgresInput, signal: AbortSignal): Promise<DeployPostgresOutput>
  waitForReady (input: WaitForReadyInput, signal: AbortSignal): Promise<WaitForReadyOutput>
  getConnectionStrings (input: GetConnectionStringsInput, signal: AbortSignal): Promise<GetConnectionStringsOutput>
  deletePostgres (input: DeletePostgresInput, signal: AbortSignal): Promise<DeletePostgresOutput>
  /**
   * Brings a stopped instance back (health monitoring's auto-restart).
   * Resolves true when it restarted something. Optional: Kubernetes restarts pods itself.
   */
  restart? (ref: InstanceRef, signal: AbortSignal): Promise<boolean>
  close (): Promise<void>
}

/** An error the caller must not retry (bad spec, image that never pulls...). */
export class PermanentProvisionerError extends Error {
  override name = 'PermanentProvisionerError'
  readonly retryable = false
}
