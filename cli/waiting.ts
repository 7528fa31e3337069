// Waiting for things to happen, from the event stream (cli/follow.ts):
// an operation's end, with each of its steps drawn as it goes, and an
// instance reaching a state (running) or going (gone).
import { ProblemError, unwrap, type Instance, type Operation, type StreamEvent } from '../client/index.ts'
import type { Ctx } from './context.ts'
import { follow, type Followed } from './follow.ts'
import { shortName } from './output.ts'
import type { Progress, StepData } from './progress.ts'

export interface OperationOutcome {
  status: 'succeeded' | 'failed' | 'cancelled'
  /** The first step that failed (short name), and why. */
  failedStep: string | null
  reason: string | null
  /** How long the operation took, when known. */
  durationMs: number | null
}

/** Follows operation `operationId` of instance `name` to its end, drawing its steps on `progress`. */
export async function awaitOperation (ctx: Ctx, name: string, operationId: string, progress: Progress, timeoutMs: number | undefined): Promise<Followed<OperationOutcome>> {
  let firstFailure: { step: string, reason: string | null } | undefined
  const drawn = new Set<number>()
  const draw = (d: StepData): void => {
    if (d.position !== undefined && d.status !== 'running' && d.status !== 'retrying' && d.status !== 'sleeping') drawn.add(d.position)
    if (d.status === 'failed' && !firstFailure && d.step) firstFailure = { step: shortName(d.step), reason: d.error?.message ?? null }
    progress.step(d)
  }
  const options = {
    timeoutMs,
    onEvent (e: StreamEvent): OperationOutcome | undefined | Promise<OperationOutcome | undefined> {
      if (e.data?.operation_id !== operationId) return undefined
      if (e.event === 'step') draw(e.data as StepData)
      if (e.event === 'operation') {
        const error = e.data.error as { message?: string, step?: string } | undefined
        const told: OperationOutcome = {
          status: e.data.status,
          failedStep: firstFailure?.step ?? (error?.step ? shortName(error.step) : null),
          reason: firstFailure?.reason ?? error?.message ?? null,
          durationMs: typeof e.data.duration_ms === 'number' ? e.data.duration_ms : null
        }
        // The operation's record draws any step the stream did not (one that ended with the operation, a resumed stream).
        return options.check().then(read => read ?? told, () => told)
      }
      return undefined
    },
    async check (): Promise<OperationOutcome | undefined> {
      const op = unwrap(await ctx.api.GET('/operations/{id}', { params: { path: { id: operationId } } }))
      if (op.status === 'pending' || op.status === 'running') return undefined
      // Ended before the stream told us: draw what it did not.
      for (const s of op.steps.filter(s => !drawn.has(s.position) && !s.name.startsWith('$'))) draw(stepData(op, s))
      const failed = op.steps.find(s => s.status === 'failed')
      const failedName = op.error?.step ?? failed?.name
      return {
        status: op.status,
        failedStep: firstFailure?.step ?? (failedName ? shortName(failedName) : null),
        reason: firstFailure?.reason ?? op.error?.message ?? failed?.error?.message ?? null,
        durationMs: op.started_at && op.finished_at ? Date.parse(op.finished_at) - Date.parse(op.started_at) : null
      }
    }
  }
  return follow<OperationOutcome>(ctx, name, options)
}

function stepData (op: Operation, s: Operation['steps'][number]): StepData {
  return {
    operation_id: op.id,
    step: s.name,
    position: s.position,
    attempt: s.attempts,
    status: s.status as StepData['status'],
    ...(s.error ? { error: { message: s.error.message } } : {}),
    ...(s.finished_at ? { duration_ms: Date.parse(s.finished_at) - Date.parse(s.started_at) } : {})
  }
}

export type Target = 'running' | 'gone'

export type StateOutcome = { reached: true } | { reached: false, state: string, reason: string }

const NEVER_RUNNING = new Set(['failed', 'deleting', 'delete_failed'])

function verdict (target: Target, state: string | null, error: { message?: string, step?: string | null } | null | undefined): StateOutcome | undefined {
  if (state === null) return target === 'gone' ? { reached: true } : { reached: false, state: 'gone', reason: 'the instance was deleted' }
  if (target === 'running') {
    if (state === 'running') return { reached: true }
    if (NEVER_RUNNING.has(state)) return { reached: false, state: error?.step ? `${state} at ${shortName(error.step)}` : state, reason: error?.message ?? state }
  } else if (state === 'delete_failed') {
    return { reached: false, state, reason: error?.message ?? 'the delete failed' }
  }
  return undefined
}

/** The instance, or null when it does not exist. */
export async function findInstance (ctx: Ctx, name: string): Promise<Instance | null> {
  try {
    return unwrap(await ctx.api.GET('/instances/{name}', { params: { path: { name } } }))
  } catch (err) {
    if (err instanceof ProblemError && err.problem.status === 404) return null
    throw err
  }
}

/**
 * Waits until `name` is running or gone. Only changes after the snapshot
 * count (the stream replays the instance's history first): a state event
 * is newer when it is later than the snapshot's updated_at, which the same
 * transaction wrote.
 */
export async function awaitState (ctx: Ctx, name: string, target: Target, progress: Progress, timeoutMs: number | undefined): Promise<Followed<StateOutcome> & { snapshot: Instance | null }> {
  const snapshot = await findInstance(ctx, name)
  if (snapshot === null && target === 'running') throw new ProblemError({ type: 'about:blank', title: 'Not found', status: 404, detail: `no instance named "${name}"` })
  const now = verdict(target, snapshot?.state ?? null, snapshot?.error)
  if (now || !snapshot) return { done: now ?? { reached: true }, snapshot }
  const since = Date.parse(snapshot.updated_at)
  // Steps are drawn for what is under way; the latest operation, when it has ended, is history.
  const ended = snapshot.operation && !['pending', 'running'].includes(snapshot.operation.status) ? snapshot.operation.id : null
  progress.idle(`${name}: ${snapshot.state}`)
  const result = await follow<StateOutcome>(ctx, name, {
    timeoutMs,
    onEvent (e) {
      if (Date.parse(e.data?.at) <= since) return undefined
      if (e.event === 'step' && e.data.operation_id !== ended) progress.step(e.data as StepData)
      if (e.event === 'removed') return verdict(target, null, null)
      if (e.event !== 'state') return undefined
      progress.idle(`${name}: ${e.data.to}`)
      return verdict(target, e.data.to, e.data.error)
    },
    async check () {
      const instance = await findInstance(ctx, name)
      return verdict(target, instance?.state ?? null, instance?.error)
    }
  })
  return { ...result, snapshot }
}
