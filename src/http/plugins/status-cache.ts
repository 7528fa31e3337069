// The `statusCache` decorator: GET /instances/{name} answers from a
// micro-cache shared by concurrent pollers (TOYGRES_STATUS_CACHE_MS). Every
// change to what it shows drops the instance's entry: the routes' own writes
// at once, and any process's writes (the engine marking an instance running,
// a health verdict, a step of its operation) when the event hub hears of
// them, a few milliseconds after they commit. What changes without an event
// (the time of the last health check) shows within the TTL.
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

/** Ids remembered (instance and operation → name) before the map starts over. */
const MAX_IDS = 20_000

export default fp(async app => {
  // Instance and operation ids of what was loaded, to find the entry a change names.
  const names = new Map<string, string>()
  const cache = createMicroCache(app.config.statusCacheMs, async (name: string) => {
    const row = await findInstanceByName(app.db, name)
    if (!row) return null
    if (names.size >= MAX_IDS) names.clear()
    names.set(row.id, name)
    if (row.operation_id) names.set(row.operation_id, name)
    return instanceView(row, await loadOperationView(app.engine, app.db, row.operation_id), app.controlPlane.authority.certificatePem)
  })
  const unsubscribe = app.eventHub.subscribe(change => {
    const name = names.get('instanceId' in change ? change.instanceId : change.operationId)
    if (name !== undefined) cache.invalidate(name)
    cache.forgetLoading()
  })
  app.addHook('onClose', async () => { unsubscribe() })
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
}, { name: 'status-cache', dependencies: ['event-hub'] })
