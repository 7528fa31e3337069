import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ToygresError } from '../../errors.ts'
import { problems } from '../schemas/problem.ts'
import { loadOperationView } from '../views.ts'

const operations: FastifyPluginAsyncTypebox = async app => {
  app.get('/operations/:id', {
    schema: {
      tags: ['operations'],
      operationId: 'getOperation',
      summary: 'One operation with its full step history',
      params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
      response: { 200: Type.Ref('Operation'), ...problems(400, 401, 404) }
    }
  }, async request => {
    const op = await loadOperationView(app.engine, app.db, request.params.id)
    if (!op) throw new ToygresError('not-found', `no operation ${request.params.id}`)
    return op
  })
}

export default operations
