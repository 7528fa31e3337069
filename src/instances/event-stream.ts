// What an instance's event stream says, read from the database (its state
// and health history, and the traced steps of its operations), so any
// replica serves it and a client resumes from a cursor without losing or
// repeating anything. The cursor is "<instance event id>.<step event id>":
// both histories only grow, in commit order for one instance.
import pg, { Client } from 'pg'
import { instanceEventsSince, linkedOperationIds, type InstanceEvent } from '../db/instance-events.ts'
import { inTransaction } from '../db/queryable.ts'
import type { Engine, TraceEvent } from '../engine/index.ts'
import type { Logger } from '../logging.ts'

export interface StreamEvent {
  /** The cursor after this event: send it back as Last-Event-ID (or ?since=) to resume after it. */
  id: string
  event: 'state' | 'health' | 'removed' | 'step' | 'operation'
  data: Record<string, unknown>
}

export interface Cursor { instance: string, step: string }

export function parseCursor (value: string | null | undefined): Cursor | null {
  if (value === null || value === undefined || value === '') return { instance: '0', step: '0' }
  const m = /^(\d{1,19})\.(\d{1,19})$/.exec(value)
  return m ? { instance: m[1]!, step: m[2]! } : null
}

const format = (c: Cursor): string => `${c.instance}.${c.step}`
const BATCH = 500

/**
 * The events after `cursor` that exist now, oldest first (by time, the
 * instance's own before its steps at the same moment). `removed`: the
 * instance is gone; `settled`: none of its operations is still under way
 * (the delete that removed it ends a moment after). `operationNames`
 * caches operation id → orchestration name across calls.
 */
export async function eventsAfter (pool: pg.Pool, engine: Engine, instanceId: string, cursor: Cursor, operationNames: Map<string, string>): Promise<{ events: StreamEvent[], cursor: Cursor, removed: boolean, settled: boolean }> {
  // One snapshot for both histories: read one after the other, a removal that committed before the delete's end
  // could be missed by the first read and the end seen by the second, and the stream would tell them out of order.
  const { own, steps, live } = await inTransaction(pool, async db => {
    await db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY')
    const own = await instanceEventsSince(db, instanceId, cursor.instance, BATCH)
    const ops = await linkedOperationIds(db, instanceId)
    const live = await engine.liveAmong(ops, db)
    const steps = await engine.traceSince(ops, cursor.step, BATCH, db)
    const unknown = [...new Set(steps.map(s => s.operation_id))].filter(id => !operationNames.has(id))
    for (const op of await engine.getOperations(unknown, db)) operationNames.set(op.id, op.name)
    return { own, steps, live }
  })
  // Each history keeps its own id order (the cursor's parts must only grow: an event whose
  // transaction started earlier can commit later, with a later id but an earlier time); the two
  // are interleaved by time, the instance's own first at the same moment.
  const merged: Array<{ own?: InstanceEvent, step?: TraceEvent }> = []
  for (let i = 0, j = 0; i < own.length || j < steps.length;) {
    if (j >= steps.length || (i < own.length && own[i]!.at.getTime() <= steps[j]!.at.getTime())) merged.push({ own: own[i++] })
    else merged.push({ step: steps[j++] })
  }
  const next = { ...cursor }
  const events: StreamEvent[] = []
  let removed = false
  for (const m of merged) {
    if (m.own) {
      next.instance = m.own.id
      removed ||= m.own.kind === 'removed'
      events.push({ id: format(next), event: m.own.kind, data: instanceEventData(m.own) })
    } else if (m.step) {
      next.step = m.step.id
      events.push({ id: format(next), event: m.step.name === '$operation' ? 'operation' : 'step', data: stepData(m.step, operationNames.get(m.step.operation_id)) })
    }
  }
  return { events, cursor: next, removed, settled: live.size === 0 }
}

function instanceEventData (e: InstanceEvent): Record<string, unknown> {
  return { instance: e.name, from: e.from_value, to: e.to_value, at: e.at.toISOString(), ...(e.detail ? { error: e.detail } : {}) }
}

/**
 * A step's event: `running` when it started (or reported progress) while
 * still under way, `retrying` with the failed attempt's reason, then
 * `succeeded`, `failed` or `cancelled`, with its duration.
 */
function stepData (s: TraceEvent, operation: string | undefined): Record<string, unknown> {
  return {
    operation_id: s.operation_id,
    operation: operation ?? null,
    ...(s.position >= 0 ? { step: s.name, position: s.position, attempt: s.attempts } : {}),
    status: s.status,
    ...(s.progress ? { waiting_for: s.progress } : {}),
    ...(s.error ? { error: s.error } : {}),
    started_at: s.started_at.toISOString(),
    ...(s.finished_at ? { finished_at: s.finished_at.toISOString(), duration_ms: s.finished_at.getTime() - s.started_at.getTime() } : {}),
    at: s.at.toISOString()
  }
}

/** What changed: an instance (its state, health or removal, from the instance trigger's NOTIFY) or a traced operation (a step or its end). */
export type Change = { instanceId: string } | { operationId: string }

/**
 * Wakes streams when something may have happened: a NOTIFY from the
 * instance trigger (state, health, removal; payload: the instance id), or
 * the engine's trace events (a traced step or an operation's end). Streams
 * also poll, so a missed notification only delays an event. The listener
 * connects on first use (next or subscribe), and reconnects after a second
 * when its connection fails.
 */
export interface EventHub {
  /** Resolves on the next possible change, after `maxMs`, or when `signal` aborts. */
  next (maxMs: number, signal: AbortSignal): Promise<void>
  /** Calls `fn` with each change as it is heard, until the returned function is called. */
  subscribe (fn: (change: Change) => void): () => void
  close (): Promise<void>
}

export function createEventHub (opts: { connectionString: string, engine: Engine, log: Logger }): EventHub {
  const waiting = new Set<() => void>()
  const subscribers = new Set<(change: Change) => void>()
  const changed = (change: Change): void => {
    for (const fn of subscribers) fn(change)
    for (const w of [...waiting]) w()
  }
  const traced = (e: { operationId: string }): void => changed({ operationId: e.operationId })
  opts.engine.on('trace', traced)
  let client: Client | null = null
  let started = false
  let closed = false
  let retry: NodeJS.Timeout | undefined

  const connect = (): void => {
    const c = new Client({ connectionString: opts.connectionString, application_name: 'toygres-events' })
    c.on('notification', n => changed({ instanceId: n.payload ?? '' }))
    c.on('error', err => {
      opts.log.debug({ err }, 'event listener connection failed; reconnecting')
      c.end().catch(() => {})
      if (!closed) retry = setTimeout(connect, 1000)
    })
    c.connect().then(() => c.query('LISTEN toygres_events')).then(() => { client = c }, () => {
      c.end().catch(() => {})
      if (!closed) retry = setTimeout(connect, 1000)
    })
  }
  const start = (): void => {
    if (started || closed) return
    started = true
    connect()
    // An API-only process runs no workers, so its engine listens only when asked.
    opts.engine.listen().catch(err => opts.log.debug({ err }, 'engine listener failed; streams poll'))
  }

  return {
    next (maxMs, signal) {
      start()
      return new Promise(resolve => {
        const done = (): void => { clearTimeout(timer); waiting.delete(done); signal.removeEventListener('abort', done); resolve() }
        const timer = setTimeout(done, maxMs)
        waiting.add(done)
        signal.addEventListener('abort', done, { once: true })
      })
    },
    subscribe (fn) {
      start()
      subscribers.add(fn)
      return () => { subscribers.delete(fn) }
    },
    async close () {
      closed = true
      clearTimeout(retry)
      opts.engine.off('trace', traced)
      subscribers.clear()
      for (const w of [...waiting]) w()
      await client?.end().catch(() => {})
    }
  }
}
