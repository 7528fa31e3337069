// Orchestration names, following the plan's convention
// {crate-name}::{type}::{name}. These are the public names; the engine maps
// them to pg-boss queue names. Their typed handles come from registry.ts.
export const orchestrationNames = {
  CREATE_INSTANCE: 'toygres-orchestrations::orchestration::create-instance',
  DELETE_INSTANCE: 'toygres-orchestrations::orchestration::delete-instance',
  HEALTH_CHECK: 'toygres-orchestrations::orchestration::health-check'
} as const
