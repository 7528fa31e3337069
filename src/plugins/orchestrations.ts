// Joins the rooms: registers the orchestrations with the engine, wired to the
// provisioner's activities and the instance metadata, then starts workers.
import fp from 'fastify-plugin'
import { testConnection } from '../activities/test-connection.ts'
import { markFailed, markRunning, readPasswordCiphertext, removeInstance } from '../instances/store.ts'
import type { OrchestrationDeps } from '../orchestrations/deps.ts'
import { createOrchestrationRegistry } from '../orchestrations/registry.ts'

export default fp(async app => {
  const { db, provisioner, secrets, engine } = app
  const deps: OrchestrationDeps = {
    activities: {
      deployPostgres: (i, s) => provisioner.deployPostgres(i, s),
      waitForReady: (i, s) => provisioner.waitForReady(i, s),
      getConnectionStrings: (i, s) => provisioner.getConnectionStrings(i, s),
      testConnection,
      deletePostgres: (i, s) => provisioner.deletePostgres(i, s)
    },
    instances: {
      async password (id) {
        const sealed = await readPasswordCiphertext(db, id)
        if (sealed === null) throw Object.assign(new Error(`instance ${id} no longer exists`), { retryable: false })
        return secrets.decrypt(sealed)
      },
      markRunning: (id, info) => markRunning(db, id, info),
      markFailed: (id, error) => markFailed(db, id, error),
      remove: (id) => removeInstance(db, id)
    },
    health: app.healthMonitor,
    readyTimeoutSeconds: 300
  }
  for (const [name, fn] of createOrchestrationRegistry(deps)) engine.register(name, fn)
  if (app.config.workers.concurrency > 0) await engine.work()
}, { name: 'orchestrations', dependencies: ['engine', 'provisioner', 'secrets', 'health-monitor'] })
