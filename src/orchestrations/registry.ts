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
import { resetPassword } from './reset-password.ts'
import { restartInstance } from './restart-instance.ts'
import { startInstance } from './start-instance.ts'
import { stopInstance } from './stop-instance.ts'
import { updateInstance } from './update-instance.ts'

export type OrchestrationSettings = PolicySettings & HealthCheckSettings

/**
 * Registers every orchestration with `engine`, bound to `activities` and their
 * policies (activityTable); returns each one's typed handle, by name.
 */
export function registerOrchestrations (engine: Engine, activities: Activities, settings: OrchestrationSettings) {
  const binding = { activities: { table: activityTable(settings), implementations: activities } }
  return {
    createInstance: engine.register(names.CREATE_INSTANCE, createInstance, binding),
    deleteInstance: engine.register(names.DELETE_INSTANCE, deleteInstance, binding),
    // A monitor lives as long as its instance: queued, it goes to whichever worker fetches it, so monitors
    // spread over the workers instead of staying with the one that ran the create (or housekeeping).
    healthCheck: engine.register(names.HEALTH_CHECK, healthCheck(settings), { ...binding, concurrency: settings.concurrency, eagerStart: false }),
    restartInstance: engine.register(names.RESTART_INSTANCE, restartInstance, binding),
    stopInstance: engine.register(names.STOP_INSTANCE, stopInstance, binding),
    startInstance: engine.register(names.START_INSTANCE, startInstance, binding),
    resetPassword: engine.register(names.RESET_PASSWORD, resetPassword, binding),
    updateInstance: engine.register(names.UPDATE_INSTANCE, updateInstance, binding)
  }
}

/** The typed handles of every orchestration. */
export type Orchestrations = ReturnType<typeof registerOrchestrations>
