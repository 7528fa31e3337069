// The registry, as the plan lays it out: every orchestration under its name,
// bound to the activities it calls. Returns the typed handles that starting
// an operation takes.
import type { Engine } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { activityTable, type PolicySettings } from './activities.ts'
import { createInstance } from './create-instance.ts'
import { deleteInstance } from './delete-instance.ts'
import { healthCheck, type HealthCheckSettings } from './health-check.ts'
import { orchestrationNames as names } from './names.ts'

export type OrchestrationSettings = PolicySettings & HealthCheckSettings

export function registerOrchestrations (engine: Engine, activities: Activities, settings: OrchestrationSettings) {
  const binding = { activities: { table: activityTable(settings), implementations: activities } }
  return {
    createInstance: engine.register(names.CREATE_INSTANCE, createInstance, binding),
    deleteInstance: engine.register(names.DELETE_INSTANCE, deleteInstance, binding),
    healthCheck: engine.register(names.HEALTH_CHECK, healthCheck(settings), binding)
  }
}

/** The typed handles of every orchestration. */
export type Orchestrations = ReturnType<typeof registerOrchestrations>
