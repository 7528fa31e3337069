// Orchestration names, following the plan's convention
// {crate-name}::{type}::{name}. These are the public names; the engine maps
// them to pg-boss queue names. Their typed handles come from registry.ts.
/** Every orchestration's public name, by constant (see above). */
export const orchestrationNames = {
  CREATE_INSTANCE: 'toygres-orchestrations::orchestration::create-instance',
  DELETE_INSTANCE: 'toygres-orchestrations::orchestration::delete-instance',
  HEALTH_CHECK: 'toygres-orchestrations::orchestration::health-check',
  RESTART_INSTANCE: 'toygres-orchestrations::orchestration::restart-instance',
  STOP_INSTANCE: 'toygres-orchestrations::orchestration::stop-instance',
  START_INSTANCE: 'toygres-orchestrations::orchestration::start-instance',
  RESET_PASSWORD: 'toygres-orchestrations::orchestration::reset-password',
  UPDATE_INSTANCE: 'toygres-orchestrations::orchestration::update-instance'
} as const

/**
 * What the API calls each orchestration's operations: their `kind`. The
 * instance operations are recorded under these kinds too
 * (toygres.instance_operations); the health monitor is never linked there.
 */
export const operationKinds = {
  create: orchestrationNames.CREATE_INSTANCE,
  delete: orchestrationNames.DELETE_INSTANCE,
  restart: orchestrationNames.RESTART_INSTANCE,
  stop: orchestrationNames.STOP_INSTANCE,
  start: orchestrationNames.START_INSTANCE,
  'reset-password': orchestrationNames.RESET_PASSWORD,
  update: orchestrationNames.UPDATE_INSTANCE,
  'health-check': orchestrationNames.HEALTH_CHECK
} as const
