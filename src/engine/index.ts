// The engine's public surface: general durable execution on pg-boss. It knows
// nothing about PostgreSQL instances, HTTP or Kubernetes.
export { Engine, type EngineOptions, type StartOptions } from './engine.ts'
export {
  CancelledError, EngineError, NonDeterminismError, NonRetryableError, StepFailedError, StepTimeoutError,
  LeaseLostError, isRetryable, type StoredError
} from './errors.ts'
export { DEFAULT_STEP_POLICY } from './policy.ts'
export { queueName } from './queues.ts'
export type {
  Context, ContinueAsNew, Operation, OperationStatus, OrchestrationFn, Queryable, StepPolicy, StepRecord, StepStatus
} from './types.ts'
