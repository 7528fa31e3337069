// GET /instances/{name}/health: the current verdict and the recent checks,
// newest first. Reads only; the checks are written by the health monitor.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listHealthChecks } from '../../db/health-checks.ts'
import { findInstanceByName } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { HealthQuery, InstanceHealthReport } from '../schemas/health.ts'
import { NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'
import { healthReportView } from '../views.ts'

const instanceHealth: FastifyPluginAsyncTypebox = async app => {
  app.get('/instances/:name/health', {
    schema: {
      tags: ['instances'],
      operationId: 'getInstanceHealth',
      summary: 'An instance\'s health and its recent health checks',
      description: '`unhealthy` after TOYGRES_HEALTH_FAILURE_THRESHOLD failed checks in a row; `healthy` again on the next success; `unknown` before the first verdict.',
      params: NameParams,
      querystring: HealthQuery,
      response: { 200: InstanceHealthReport, ...problems(400, 401, 404) }
    }
  }, async request => {
    const row = await findInstanceByName(app.db, request.params.name)
    if (!row) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    return healthReportView(row, await listHealthChecks(app.db, row.id, request.query.limit ?? 20))
  })
}

export default instanceHealth
