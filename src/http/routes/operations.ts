// Operations: one with its full step history, the recent ones of every
// instance and an instance's own (newest first, a page at a time), and
// cancelling one that is pending or running (its compensation runs; 409
// once it has finished).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { listLinkedOperations } from '../../db/instance-events.ts'
import { findInstanceByName } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { monitorKey } from '../../instances/monitors.ts'
import { operationKinds } from '../../orchestrations/names.ts'
import { decodeCursor, encodeCursor, UUID } from '../cursor.ts'
import { NameParams } from '../schemas/instances.ts'
import { InstanceOperationList, InstanceOperationsQuery, OperationListQuery } from '../schemas/operations.ts'
import { problems } from '../schemas/problem.ts'
import { listedOperationView, loadOperationView, operationView } from '../views.ts'

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

const operations: FastifyPluginAsyncTypebox = async app => {
  app.get('/operations/:id', {
    schema: {
      tags: ['operations'],
      operationId: 'getOperation',
      summary: 'One operation with its full step history',
      params: IdParams,
      response: { 200: Type.Ref('Operation'), ...problems(400, 401, 404) }
    }
  }, async request => {
    const op = await loadOperationView(app.engine, app.db, request.params.id)
    if (!op) throw new ToygresError('not-found', `no operation ${request.params.id}`)
    return op
  })

  app.post('/operations/:id/cancel', {
    schema: {
      tags: ['operations'],
      operationId: 'cancelOperation',
      summary: 'Cancel a pending or running operation',
      description: 'A pending one ends at once; a running one stops at its next step boundary (its running step is aborted) and its compensation runs. 409 when it has already finished.',
      params: IdParams,
      response: { 202: Type.Ref('Operation'), ...problems(400, 401, 404, 409) }
    }
  }, async (request, reply) => {
    const op = await app.engine.getOperation(request.params.id)
    if (!op) throw new ToygresError('not-found', `no operation ${request.params.id}`)
    if (!(await app.engine.cancel(op.id, { reason: 'cancelled by request' }))) {
      throw new ToygresError('conflict', `operation ${op.id} has already finished (${op.status}): nothing to cancel`)
    }
    app.statusCache.invalidate(op.key)
    reply.code(202)
    return (await loadOperationView(app.engine, app.db, op.id))!
  })

  app.get('/operations', {
    schema: {
      tags: ['operations'],
      operationId: 'listOperations',
      summary: 'Recent operations of every instance, newest first, a page at a time',
      description: 'Newest first: by `created_at` (when it was asked for), then `id`. Each item is what GET /instances/{name}/operations lists (an Operation without its steps, and its `kind`) plus `instance`, the name of the instance it acts on, kept after the instance is deleted. Pass `next_cursor` back as `cursor` for the next page: operations started meanwhile sort before it, so no page repeats or skips one. The health checks (each instance\'s long-lived monitor) are left out unless `kind=health-check`. `instance` narrows to the operations on that name, an earlier instance\'s of the same name included; with `kind=health-check`, to the monitor of the instance that has the name now.',
      querystring: OperationListQuery,
      response: { 200: Type.Ref('OperationList'), ...problems(400, 401) }
    }
  }, async request => {
    const { limit = 20, cursor, status, kind, instance } = request.query
    const monitors = kind === 'health-check'
    // Instance operations are keyed by the instance's name; its monitor by its id.
    let key = instance
    if (instance !== undefined && monitors) {
      const row = await findInstanceByName(app.db, instance)
      if (!row) return { items: [], next_cursor: null }
      key = monitorKey(row.id)
    }
    const page = await app.engine.listOperations({
      limit,
      before: cursor === undefined ? undefined : decodeCursor(cursor, UUID),
      status,
      name: kind === undefined ? undefined : operationKinds[kind],
      key,
      // Every instance operation is started traced; the monitors never are.
      traced: !monitors
    })
    return { items: page.operations.map(listedOperationView), next_cursor: page.next ? encodeCursor(page.next) : null }
  })

  app.get('/instances/:name/operations', {
    schema: {
      tags: ['operations'],
      operationId: 'listInstanceOperations',
      summary: 'An instance\'s operations, newest first, a page at a time',
      params: NameParams,
      querystring: InstanceOperationsQuery,
      response: { 200: InstanceOperationList, ...problems(400, 401, 404) }
    }
  }, async request => {
    const row = await findInstanceByName(app.db, request.params.name)
    if (!row) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    const limit = request.query.limit ?? 20
    const links = await listLinkedOperations(app.db, row.id, limit + 1, request.query.cursor ? decodeCursor(request.query.cursor, UUID) : undefined)
    const page = links.slice(0, limit)
    const ops = new Map((await app.engine.getOperations(page.map(l => l.operation_id))).map(o => [o.id, o]))
    const last = page[page.length - 1]
    return {
      // Step timelines: GET /operations/{id}.
      items: page.filter(l => ops.has(l.operation_id)).map(l => ({ ...operationView(ops.get(l.operation_id)!, []), kind: l.kind })),
      next_cursor: links.length > limit && last ? encodeCursor({ at: last.created_at_us, id: last.operation_id }) : null
    }
  })
}

export default operations
