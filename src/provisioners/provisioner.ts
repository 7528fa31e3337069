// What the activities need from a place that runs PostgreSQL. Two
// implementations: kubernetes (production) and local (the embedded default).
// Every method is idempotent: a repeat, or a re-run after a crash half-way,
// converges to the same result. Every method acts only on what carries the
// instance's mark (OwnedRef.instance_id); a same-named thing without it is
// never adopted and never removed: an error for every method but
// delete-postgres, which leaves it alone and reports nothing deleted.
import type {
  ActivityContext, ApplyLabelsInput, ApplyNetworkInput, ChangeOutput, DeletePostgresInput, DeletePostgresOutput,
  DeploySpec, DeployPostgresOutput, GetConnectionStringsInput, GetConnectionStringsOutput, InstanceRef,
  LogsInput, OwnedRef, ResizeStorageInput, RestartOutput, ServerNames, SetPasswordInput, WaitForReadyInput,
  WaitForReadyOutput
} from './types.ts'

export interface Provisioner {
  /** Which implementation this is. */
  readonly kind: 'local' | 'kubernetes'
  /**
   * Whether the platform answers now: null when it does, else why not, in
   * words a person can act on (e.g. which kubeconfig places were looked at).
   * Bounded by `signal`; /readyz and boot call it.
   */
  unreachableReason (signal: AbortSignal): Promise<string | null>
  /** PostgreSQL major versions this provisioner can run now, e.g. ["17", "18"]. */
  supportedVersions (): Promise<string[]>
  /** How an operator makes another major available, for the message that lists supportedVersions(); absent when there is no such way. */
  readonly versionsHint?: string
  /** What the instance's server certificate must name (Service DNS names, a DNS label's name, 127.0.0.1...). */
  serverNames (input: InstanceRef & { dns_label: string | null }): Promise<ServerNames>

  /**
   * The connection string (no password) a new instance will have, when it is
   * known before deploy-postgres runs: local reserves the instance's port now
   * (ports.ts; deploy takes the same reservation, delete releases it).
   * Absent, or null: known only later (Kubernetes: a load balancer's address).
   */
  plannedConnectionString? (ref: OwnedRef): Promise<string | null>
  /** deploy-postgres: create what is missing; keep what exists with our mark; fail on what exists without it. */
  deployPostgres (input: DeploySpec, ctx: ActivityContext): Promise<DeployPostgresOutput>
  /** wait-for-ready: until the server accepts connections, reporting why not meanwhile; fails at the deadline with the last reason. */
  waitForReady (input: WaitForReadyInput, ctx: ActivityContext): Promise<WaitForReadyOutput>
  /** get-connection-strings: waits for an address that clients can use. */
  getConnectionStrings (input: GetConnectionStringsInput, ctx: ActivityContext): Promise<GetConnectionStringsOutput>
  /** delete-postgres: removes everything with the instance's mark, and waits until it is gone. */
  deletePostgres (input: DeletePostgresInput, ctx: ActivityContext): Promise<DeletePostgresOutput>

  /** A new server process on the same data; resolves once it accepts connections. */
  restartPostgres (input: OwnedRef & { timeout_seconds: number }, ctx: ActivityContext): Promise<RestartOutput>
  /** Stops the server, keeping its data (Kubernetes: scale to 0, volume kept). */
  stopPostgres (input: OwnedRef & { timeout_seconds: number }, ctx: ActivityContext): Promise<ChangeOutput>
  /** Starts a stopped server on its data; resolves once it accepts connections. */
  startPostgres (input: OwnedRef & { timeout_seconds: number }, ctx: ActivityContext): Promise<ChangeOutput>
  /**
   * Health monitoring's auto-restart: brings back a server that died (not one
   * a user stopped). Resolves true when it started something.
   */
  recoverPostgres (input: OwnedRef, ctx: ActivityContext): Promise<boolean>
  /** Stores a new password where the platform keeps it (Kubernetes Secret); the role itself is changed over SQL. */
  setPassword (input: SetPasswordInput, ctx: ActivityContext): Promise<ChangeOutput>
  /** Grows the volume; says plainly when the platform cannot (a StorageClass without expansion). */
  resizeStorage (input: ResizeStorageInput, ctx: ActivityContext): Promise<ChangeOutput>
  /** Copies user labels onto every object of the instance. */
  applyLabels (input: ApplyLabelsInput, ctx: ActivityContext): Promise<ChangeOutput>
  /**
   * Applies the allowed networks (load balancer source ranges, pg_hba rules).
   * Local: also reloads the server and waits until the new file is in force.
   * Kubernetes: does not reload; the kubelet writes the ConfigMap into the pod
   * up to about a minute later, and the apply-network activity reloads once
   * the server's pg_hba.conf shows the rules (activities/day2.ts).
   */
  applyNetwork (input: ApplyNetworkInput, ctx: ActivityContext): Promise<ChangeOutput>
  /** The server's log: the last `tail` lines, then new ones while `follow` and until `signal` aborts. */
  readLogs (input: LogsInput, signal: AbortSignal): AsyncIterable<string>

  /**
   * Releases what the provisioner holds (local: waits for a template copy being
   * made in the background). Servers keep running: instances outlive the
   * control plane.
   */
  close (): Promise<void>
}

/** An error the caller must not retry (bad spec, image that never pulls, someone else's object...). */
export class PermanentProvisionerError extends Error {
  override name = 'PermanentProvisionerError'
  readonly retryable = false
}
