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
