// Glossary (see README.md): an orchestration is a registered async function;
// an operation is one run of it, stored in toygres.operations; a step is one
// checkpointed call inside it, stored in toygres.operation_steps.
import type pg from 'pg'
import type { Logger } from 'pino'
import type { StoredError } from './errors.ts'

export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled'
export type StepStatus = 'succeeded' | 'failed' | 'cancelled' | 'sleeping' | 'retrying'

/** Anything that can run a parameterised query: a Pool, a Client, a PoolClient. */
export interface Queryable {
  query: pg.Pool['query']
}

export interface StepPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number
  initialDelayMs: number
  backoffFactor: number
  maxDelayMs: number
  /** Per attempt; aborts the step's signal and counts as a failed attempt. 0 = none. */
  timeoutMs: number
}

export interface Operation {
  id: string
  name: string
  key: string
  status: OperationStatus
  input: unknown
  output: unknown
  error: StoredError | null
  idempotency_key: string | null
  /** Runs that claimed the operation (first run, resumptions, crash replays). */
  attempts: number
  generation: number
  created_at: Date
  started_at: Date | null
  finished_at: Date | null
  cancel_requested_at: Date | null
  cancel_reason: string | null
}

export interface StepRecord {
  position: number
  name: string
  status: StepStatus
  attempts: number
  started_at: Date
  finished_at: Date | null
  output: unknown
  error: StoredError | null
}

export interface Context {
  readonly operationId: string
  readonly name: string
  readonly key: string
  /** Aborted when cancel() is requested. */
  readonly signal: AbortSignal
  readonly log: Logger
  /** Runs fn at most once per success and checkpoints its JSON result. */
  step<T>(name: string, fn: (signal: AbortSignal) => Promise<T>, policy?: Partial<StepPolicy>): Promise<T>
  /** Durable timer: releases the worker and resumes after ms, across restarts. */
  sleep(ms: number): Promise<void>
  /** Checkpointed Date.now(). */
  now(): Promise<number>
  /** Checkpointed randomUUID(). */
  uuid(): Promise<string>
  /** Return this to restart under the same operation id with fresh input and an empty history. */
  continueAsNew<I>(input: I): ContinueAsNew<I>
}

export interface ContinueAsNew<I = unknown> {
  readonly continueAsNew: true
  readonly input: I
}

export type OrchestrationFn<I = any, O = any> = (ctx: Context, input: I) => Promise<O>

export interface Registration {
  name: string
  queue: string
  fn: OrchestrationFn
  stepPolicy: Partial<StepPolicy>
}
