// GET /instances/{name}/health: the current verdict and the recent checks,
// newest first, a page at a time back through the retained history. Reads
// only; the checks are written by the health monitor.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { listHealthChecks } from '../../db/health-checks.ts'
import { findInstanceByName } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { BIGINT, decodeCursor, encodeCursor } from '../cursor.ts'
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
      description: '`unhealthy` after TOYGRES_HEALTH_FAILURE_THRESHOLD failed checks in a row; `healthy` again on the next success; `unknown` before the first verdict. `checks` are the newest `limit`, newest first; pass `next_cursor` back as `cursor` for the ones before them (checks recorded meanwhile are newer: no page repeats or skips one), and `since` to stop at a time.',
      params: NameParams,
      querystring: HealthQuery,
      response: { 200: InstanceHealthReport, ...problems(400, 401, 404) }
    }
  }, async request => {
    const row = await findInstanceByName(app.db, request.params.name)
    if (!row) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    const { limit = 20, cursor, since } = request.query
    const checks = await listHealthChecks(app.db, row.id, limit + 1, { before: cursor === undefined ? undefined : decodeCursor(cursor, BIGINT), since })
    const page = checks.slice(0, limit)
    const last = page[page.length - 1]
    return healthReportView(row, page, checks.length > limit && last ? encodeCursor({ at: last.checked_at_us, id: last.id }) : null)
  })
}

export default instanceHealth
