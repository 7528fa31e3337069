// The engine's public surface: general durable execution on pg-boss. It knows
// nothing about PostgreSQL instances, HTTP or Kubernetes.
export { Engine, orchestration, type EngineOptions, type RegisterOptions, type StartOptions } from './engine.ts'
export {
  CancelledError, EngineError, NonDeterminismError, NonRetryableError, StepFailedError, StepTimeoutError,
  LeaseLostError, isRetryable, type StoredError
} from './errors.ts'
export { DEFAULT_STEP_POLICY } from './policy.ts'
export { queueName } from './queues.ts'
export type { TraceEvent } from './sql/operations.ts'
export type {
  ActivityBinding, ActivityFn, ActivityOptions, ActivityProxies, ActivityTable, Context, ContinueAsNew, Operation,
  OperationCursor, OperationPage, OperationQuery, OperationStatus, OrchestrationFn, OrchestrationHandle, StepContext, StepFn, StepPolicy, StepRecord, StepStatus
} from './types.ts'
