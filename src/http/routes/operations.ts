// Operations: one with its full step history, an instance's operations
// (newest first), and cancelling one that is pending or running (its
// compensation runs; 409 once it has finished).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { listLinkedOperations } from '../../db/instance-events.ts'
import { findInstanceByName } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { decodeCursor, encodeCursor, UUID } from '../cursor.ts'
import { NameParams } from '../schemas/instances.ts'
import { InstanceOperationList, InstanceOperationsQuery } from '../schemas/operations.ts'
import { problems } from '../schemas/problem.ts'
import { loadOperationView, operationView } from '../views.ts'

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
