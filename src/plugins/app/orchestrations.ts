// Joins the rooms: binds the activities to the provisioner, the metadata and
// the secret store, registers every orchestration with the engine, and
// decorates the services that start them (`instances`, `monitors`). Worker
// processes then start their workers.
import fp from 'fastify-plugin'
import { createActivities } from '../../activities/index.ts'
import { startMonitor, stopMonitor, type MonitorDeps } from '../../instances/monitors.ts'
import * as changes from '../../instances/changes.ts'
import { forceDelete, requestCreate, requestDelete, type CreateRequest, type InstanceServiceDeps } from '../../instances/service.ts'
import { updateInstance } from '../../instances/update.ts'
import type { UpdateInstanceRequest } from '../../instances/requests.ts'
import { registerOrchestrations, type Orchestrations } from '../../orchestrations/registry.ts'

/** See HealthCheckSettings.checksPerGeneration: ~1.1 engine runs per check, at most 40 steps of history. */
export const CHECKS_PER_GENERATION = 10

declare module 'fastify' {
  interface FastifyInstance {
    orchestrations: Orchestrations
    monitors: { deps: MonitorDeps, start (instanceId: string): Promise<string | null>, stop (instanceId: string): Promise<void> }
    /** The services that start operations on instances (src/instances/), bound to this app's dependencies. */
    instances: {
      create: (req: CreateRequest, idempotencyKey?: string) => ReturnType<typeof requestCreate>
      delete: (name: string) => ReturnType<typeof requestDelete>
      forget: (name: string) => ReturnType<typeof forceDelete>
      restart: (name: string) => ReturnType<typeof changes.restart>
      stop: (name: string) => ReturnType<typeof changes.stop>
      start: (name: string) => ReturnType<typeof changes.start>
      resetPassword: (name: string, password?: string) => ReturnType<typeof changes.resetPassword>
      update: (name: string, patch: UpdateInstanceRequest) => ReturnType<typeof updateInstance>
    }
  }
}

export default fp(async app => {
  const { db, engine, provisioner, secrets, config } = app
  const health = config.health
  const metrics = app.hasDecorator('metrics') ? app.metrics : undefined
  // The monitors need the health-check handle, which registering returns: bound once it exists.
  let orchestrations: Orchestrations | undefined
  const monitorDeps = (): MonitorDeps => ({ pool: db, engine, healthCheck: orchestrations!.healthCheck, autoRestart: health.autoRestart })
  const activities = createActivities({
    db,
    log: app.log,
    provisioner,
    secrets,
    authority: app.controlPlane.authority,
    monitors: {
      start: id => startMonitor(monitorDeps(), id),
      stop: id => stopMonitor(monitorDeps(), id)
    },
    health: {
      timeoutMs: health.timeoutSeconds * 1000,
      failureThreshold: health.failureThreshold,
      retentionHours: health.retentionHours
    },
    ...(metrics
      ? {
          onHealthCheck: (ms: number, ok: boolean) => metrics.observeHealthCheck(ms, ok),
          onHealthCheckLateness: (ms: number) => metrics.observeHealthCheckLateness(ms)
        }
      : {})
  })
  orchestrations = registerOrchestrations(engine, activities, {
    healthTimeoutMs: health.timeoutSeconds * 1000,
    intervalMs: health.intervalSeconds * 1000,
    checksPerGeneration: CHECKS_PER_GENERATION,
    concurrency: health.concurrency
  })
  app.decorate('orchestrations', orchestrations)
  app.decorate('monitors', {
    deps: monitorDeps(),
    start: (id: string) => startMonitor(monitorDeps(), id),
    stop: (id: string) => stopMonitor(monitorDeps(), id)
  })
  const service: InstanceServiceDeps = {
    pool: db, engine, secrets, orchestrations, provisioner, authority: app.controlPlane.authority,
    timeouts: config.timeouts, defaultAllowedCidrs: config.defaultAllowedCidrs, allowedNamespaces: config.allowedNamespaces
  }
  app.decorate('instances', {
    create: (req: CreateRequest, idempotencyKey?: string) => requestCreate(service, req, idempotencyKey),
    delete: (name: string) => requestDelete(service, name),
    forget: (name: string) => forceDelete(service, name),
    restart: (name: string) => changes.restart(service, name),
    stop: (name: string) => changes.stop(service, name),
    start: (name: string) => changes.start(service, name),
    resetPassword: (name: string, password?: string) => changes.resetPassword(service, name, password),
    update: (name: string, patch: UpdateInstanceRequest) => updateInstance(service, name, patch)
  })
  if (config.workers.concurrency > 0) app.addHook('onReady', async () => { await engine.work() })
}, { name: 'orchestrations', dependencies: ['engine', 'provisioner', 'secrets', 'control-plane'] })
