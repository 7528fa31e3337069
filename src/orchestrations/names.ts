// Orchestration and step names, following the plan's convention:
// {crate-name}::{type}::{name}. These are the public names; the engine maps
// them to pg-boss queue names.
export const orchestrations = {
  /** Input: CreateInstanceInput (without the password, see types.ts). Output: CreateInstanceOutput. */
  CREATE_INSTANCE: 'toygres-orchestrations::orchestration::create-instance',
  /** Input: DeleteInstanceInput. Output: DeleteInstanceOutput. */
  DELETE_INSTANCE: 'toygres-orchestrations::orchestration::delete-instance',
  /** Input: HealthCheckInput. Runs until cancelled by delete-instance. */
  HEALTH_CHECK: 'toygres-orchestrations::orchestration::health-check'
} as const

/** Metadata steps: checkpointed like activities, so a replay never applies them twice. */
export const steps = {
  MARK_RUNNING: 'toygres-orchestrations::step::mark-running',
  MARK_FAILED: 'toygres-orchestrations::step::mark-failed',
  START_HEALTH_CHECK: 'toygres-orchestrations::step::start-health-check',
  STOP_HEALTH_CHECK: 'toygres-orchestrations::step::stop-health-check',
  REMOVE_METADATA: 'toygres-orchestrations::step::remove-metadata',
  RECORD_HEALTH: 'toygres-orchestrations::step::record-health',
  RESTART_INSTANCE: 'toygres-orchestrations::step::restart-instance'
} as const
