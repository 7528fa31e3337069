// The `statusCache` decorator: GET /instances/{name} answers from a
// micro-cache shared by concurrent pollers (TOYGRES_STATUS_CACHE_MS); every
// route that changes an instance invalidates it.
import fp from 'fastify-plugin'
import { Counter } from 'prom-client'
import { findInstanceByName } from '../../db/instances.ts'
import { createMicroCache, type MicroCache } from '../micro-cache.ts'
import type { InstanceDto } from '../schemas/instances.ts'
import { instanceView, loadOperationView } from '../views.ts'

declare module 'fastify' {
  interface FastifyInstance {
    statusCache: MicroCache<InstanceDto | null>
  }
}

export default fp(async app => {
  const cache = createMicroCache(app.config.statusCacheMs, async (name: string) => {
    const row = await findInstanceByName(app.db, name)
    return row ? instanceView(row, await loadOperationView(app.engine, app.db, row.operation_id), app.controlPlane.authority.certificatePem) : null
  })
  app.decorate('statusCache', cache)
  if (app.hasDecorator('metrics')) {
    // eslint-disable-next-line no-new
    new Counter({
      name: 'toygres_status_cache_gets_total',
      help: 'GET /instances/{name} lookups, by result: hit (a finished load reused), joined (a load in flight shared), miss (loaded)',
      labelNames: ['result'] as const,
      registers: [app.metrics.registry],
      collect () {
        this.reset()
        this.inc({ result: 'hit' }, cache.stats.hits)
        this.inc({ result: 'joined' }, cache.stats.joined)
        this.inc({ result: 'miss' }, cache.stats.misses)
      }
    })
  }
}, { name: 'status-cache' })
