// Why a run stops before its orchestration function settles. The context
// never throws these into the orchestration (a catch block there would run
// compensation for a mere pause); it leaves the orchestration's promise
// pending and hands the runner one of these instead.
import type { CheckpointRow } from './sql/steps.ts'

export type Halt =
  /** A durable timer (sleep or long back-off): write `row`, free the worker, resume at wakeAt. */
  | { kind: 'timer', row: CheckpointRow, wakeAt: number }
  /** Another run holds the lease now: stop without writing anything. */
  | { kind: 'lease-lost' }
  /** The operation must fail whatever the orchestration would do (non-determinism). */
  | { kind: 'fail', error: Error }
  /** Graceful stop: give the operation back to the queue at a step boundary. */
  | { kind: 'release' }
  /** The database failed under a checkpoint: let pg-boss retry the job, which replays. */
  | { kind: 'crash', error: unknown }

export const never = <T>(): Promise<T> => new Promise<T>(() => {})
