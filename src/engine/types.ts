// Glossary (see README.md): an orchestration is a registered async function;
// an operation is one run of it, stored in toygres.operations; a step is one
// checkpointed call inside it, stored in toygres.operation_steps; an activity
// is a named, retried side effect that an orchestration calls as a step.
import type { Logger } from '../logging.ts'
import type { StoredError } from './errors.ts'

export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled'
/**
 * `running`: the step has been under way longer than the engine's visibility
 * threshold (or reported progress); `sleeping`/`retrying`: a durable timer.
 */
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'sleeping' | 'retrying'

export interface StepPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number
  /** Milliseconds before the first retry. */
  initialDelayMs: number
  /** Each further retry waits this many times longer. */
  backoffFactor: number
  /** Milliseconds; the cap on any one back-off. */
  maxDelayMs: number
  /** Milliseconds per attempt; aborts the step's signal and counts as a failed attempt. 0 = none. */
  timeoutMs: number
}

export interface Operation<O = unknown> {
  id: string
  name: string
  key: string
  status: OperationStatus
  input: unknown
  /** What the orchestration returned, once `succeeded`. */
  output: O | null
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

/** Where a page of the operations list ends: the last operation's created_at (ISO 8601, to the microsecond) and id. */
export interface OperationCursor {
  at: string
  id: string
}

/** Which operations listOperations returns, newest first; each filter given narrows it. */
export interface OperationQuery {
  limit: number
  /** Continues after this operation (a page's `next`). */
  before?: OperationCursor | undefined
  /** Of this orchestration (its public name). */
  name?: string | undefined
  status?: OperationStatus | undefined
  /** On this key. */
  key?: string | undefined
  /** Started with `trace` (true: the operations people watch) or without it (false). */
  traced?: boolean | undefined
}

export interface OperationPage {
  /** Newest first: created_at, then id, descending. */
  operations: Operation[]
  /** Pass as `before` for the next page; null on the last. */
  next: OperationCursor | null
}

export interface StepRecord {
  position: number
  name: string
  status: StepStatus
  /** The attempt under way (running) or the attempts it took. */
  attempts: number
  started_at: Date
  finished_at: Date | null
  output: unknown
  error: StoredError | null
  /** What a running step is waiting for now, as it last reported (StepContext.progress). */
  progress: string | null
}

/** What a step's function receives. */
export interface StepContext {
  /** Aborted by cancel() or by the policy's per-attempt timeout. */
  readonly signal: AbortSignal
  /** 1 for the first attempt. */
  readonly attempt: number
  /**
   * Says what the step is waiting for now ("PersistentVolumeClaim data-x-0 is
   * not bound yet"). Cheap to call often: the latest reason is written at most
   * about once a second, and only while the step is visible (running long
   * enough to matter); a succeeded step's reason is cleared.
   */
  progress (reason: string): void
}

export type StepFn<T> = (step: StepContext) => Promise<T>

/**
 * An activity as the engine calls it: its input, then the step's context.
 * The signal inside aborts on cancel and on the per-attempt timeout.
 */
export type ActivityFn<I = any, O = any> = (input: I, step: StepContext) => Promise<O>

/** Name and retry policy of one activity, as an orchestration calls it. */
export interface ActivityOptions {
  /** The step name in the timeline: the plan's `{crate}::activity::{name}`. */
  readonly name: string
  readonly policy?: Partial<StepPolicy>
}

/** Names and policies of every activity in `A`. */
export type ActivityTable<A> = { readonly [K in keyof A]: ActivityOptions }

/** What `ctx.activities` looks like: each activity is one awaitable step, input in, output out. */
export type ActivityProxies<A> = {
  readonly [K in keyof A]: A[K] extends (input: infer I, step: StepContext) => Promise<infer O> ? (input: I) => Promise<O> : never
}

/** Implementations plus their table, bound at registration. */
export interface ActivityBinding<A> {
  readonly table: ActivityTable<A>
  readonly implementations: A
}

export interface Context<A = Record<string, never>> {
  readonly operationId: string
  readonly name: string
  readonly key: string
  /** Aborted when cancel() is requested. */
  readonly signal: AbortSignal
  readonly log: Logger
  /**
   * The orchestration's activities as typed steps: `await ctx.activities.x(input)`
   * runs `x` under its name and policy from the table it was registered with.
   */
  readonly activities: ActivityProxies<A>
  /** Runs fn at most once per success and checkpoints its JSON result. */
  step<T>(name: string, fn: StepFn<T>, policy?: Partial<StepPolicy>): Promise<T>
  /** Durable timer: releases the worker and resumes after ms, across restarts. */
  sleep(ms: number): Promise<void>
  /** Durable timer until `at`, epoch milliseconds by the database's clock (what now() returns). */
  sleepUntil(at: number): Promise<void>
  /** Checkpointed time, epoch milliseconds, from the database's clock (see README: one clock). */
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

export type OrchestrationFn<I = any, O = any, A = any> = (ctx: Context<A>, input: I) => Promise<O | ContinueAsNew<I>>

/**
 * A registered orchestration: its public name, typed by its input and output,
 * so `start` and `waitFor` refuse the wrong input at compile time. Returned by
 * `Engine.register`; `orchestration(name)` makes one for an orchestration that
 * another process registers.
 */
export interface OrchestrationHandle<I, O> {
  readonly name: string
  /** Type-level only; never set. */
  readonly types?: { input: I, output: O }
}

export interface Registration {
  name: string
  queue: string
  fn: OrchestrationFn
  stepPolicy: Partial<StepPolicy>
  activities: ActivityBinding<any> | undefined
  /** Runs at once in this process; undefined: the engine's concurrency. */
  concurrency: number | undefined
  /** Whether a start in this process may run here at once (RegisterOptions.eagerStart). */
  eagerStart: boolean
}
