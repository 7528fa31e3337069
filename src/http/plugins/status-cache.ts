// The `statusCache` decorator: GET /instances/{name} answers from a
// micro-cache shared by concurrent pollers (TOYGRES_STATUS_CACHE_MS); every
// route that changes an instance invalidates it.
import fp from 'fastify-plugin'
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
  app.decorate('statusCache', createMicroCache(app.config.statusCacheMs, async (name: string) => {
    const row = await findInstanceByName(app.db, name)
    return row ? instanceView(row, await loadOperationView(app.engine, app.db, row.operation_id), app.controlPlane.authority.certificatePem) : null
  }))
}, { name: 'status-cache' })
