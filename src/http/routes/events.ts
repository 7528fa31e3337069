// GET /instances/{name}/events: Server-Sent Events of one instance, from
// the database (any replica serves them): state and health changes, each
// step's start, waiting reason, retry (with why), end (with its duration),
// and each operation's end. Resume with Last-Event-ID or ?since=; comment
// heartbeats keep proxies from closing an idle stream; the stream ends
// after the instance's removal. GET /events: every instance's state and
// health changes and removals, for a list that stays current.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { instanceEventsSince, latestInstanceEventId } from '../../db/instance-events.ts'
import { findInstanceByName } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { eventsAfter, parseCursor } from '../../instances/event-stream.ts'
import { NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'

/** Milliseconds between reads when no notification arrives (a backstop: notifications wake a stream at once). */
const POLL_MS = 2000

const EventStream = {
  description: 'text/event-stream. Each event has an `id` (a cursor: send it as Last-Event-ID, or ?since=, to resume after it), a type and JSON data.',
  content: { 'text/event-stream': { schema: Type.String({ examples: ['id: 12.40\nevent: step\ndata: {"operation":"toygres-orchestrations::orchestration::create-instance","step":"toygres-activities::activity::wait-for-ready","status":"running","waiting_for":"PersistentVolumeClaim data-orders-0 is not bound yet"}\n\n'] }) } }
}

const Since = Type.Object({
  since: Type.Optional(Type.String({ pattern: '^\\d{1,19}\\.\\d{1,19}$', description: 'Resume after this event id (as Last-Event-ID does); omitted: from the instance\'s first event' }))
}, { additionalProperties: false })

const events: FastifyPluginAsyncTypebox = async app => {
  // Open streams end when the server closes, so a shutdown is not held up by a client that never leaves.
  const streams = new Set<AbortController>()
  app.addHook('preClose', async () => { for (const s of streams) s.abort() })
  const follow = (reply: { sse: { keepAlive (): void, onClose (fn: () => void): void } }): AbortSignal => {
    reply.sse.keepAlive()
    const closed = new AbortController()
    streams.add(closed)
    reply.sse.onClose(() => { closed.abort(); streams.delete(closed) })
    return closed.signal
  }

  app.get('/instances/:name/events', {
    sse: { kind: 'only', heartbeat: true },
    schema: {
      tags: ['instances'],
      operationId: 'streamInstanceEvents',
      summary: 'Follow an instance as it changes (Server-Sent Events)',
      description: 'Event types: `state` and `health` ({from, to, error?}), `step` ({operation, step, status: running | retrying | succeeded | failed | cancelled, attempt, waiting_for?, error?, duration_ms?}), `operation` (an operation ended: {operation, status, error?}), `removed` (the instance is gone; the stream ends). Resume after a dropped connection with Last-Event-ID (or ?since=) to miss nothing and see nothing twice.',
      params: NameParams,
      querystring: Since,
      produces: ['text/event-stream'],
      response: { 200: EventStream, ...problems(400, 401, 404, 406) }
    }
  }, async (request, reply) => {
    let cursor = parseCursor(reply.sse.lastEventId ?? request.query.since)
    if (!cursor) throw new ToygresError('validation-failed', 'Last-Event-ID is not an event id this API sent', { errors: [{ field: 'headers.last-event-id', message: 'is not an event id this API sent (two numbers joined by a dot)' }] })
    const row = await findInstanceByName(app.db, request.params.name)
    if (!row) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    const closed = follow(reply)
    const names = new Map<string, string>()
    let removed = false
    while (!closed.aborted) {
      const batch = await eventsAfter(app.db, app.engine, row.id, cursor, names)
      for (const e of batch.events) await reply.sse.send({ id: e.id, event: e.event, data: e.data })
      cursor = batch.cursor
      removed ||= batch.removed
      // Gone, and its last operation (the delete) has ended and been told: the stream ends.
      if (removed && batch.settled && batch.events.length === 0) break
      if (batch.events.length === 0) await app.eventHub.next(POLL_MS, closed)
    }
    reply.sse.close()
  })

  app.get('/events', {
    sse: { kind: 'only', heartbeat: true },
    schema: {
      tags: ['instances'],
      operationId: 'streamAllInstanceEvents',
      summary: 'Follow every instance\'s state and health (Server-Sent Events)',
      description: 'Event types `state`, `health` and `removed`, with the instance name in the data. Starts from now unless resumed with Last-Event-ID or ?since= (a number).',
      querystring: Type.Object({ since: Type.Optional(Type.String({ pattern: '^\\d{1,19}$' })) }, { additionalProperties: false }),
      produces: ['text/event-stream'],
      response: { 200: EventStream, ...problems(400, 401, 406) }
    }
  }, async (request, reply) => {
    const resume = reply.sse.lastEventId ?? request.query.since
    if (resume !== undefined && resume !== null && !/^\d{1,19}$/.test(resume)) throw new ToygresError('validation-failed', 'Last-Event-ID is not an event id this API sent', { errors: [{ field: 'headers.last-event-id', message: 'is not an event id this API sent (a number)' }] })
    let cursor = resume ?? await latestInstanceEventId(app.db)
    const closed = follow(reply)
    while (!closed.aborted) {
      const batch = await instanceEventsSince(app.db, null, cursor, 500)
      for (const e of batch) {
        await reply.sse.send({ id: e.id, event: e.kind, data: { instance: e.name, from: e.from_value, to: e.to_value, at: e.at.toISOString(), ...(e.detail ? { error: e.detail } : {}) } })
        cursor = e.id
      }
      if (batch.length === 0) await app.eventHub.next(POLL_MS, closed)
    }
    reply.sse.close()
  })
}

export default events
