// Activity names: the plan's `{crate-name}::{type}::{name}`. They are the
// step names an operation's timeline shows, and replays match on them, so
// they never change. The plan's five provisioning activities come first;
// the metadata and health activities keep the names they have always had.
/** Every activity's step name, by constant (see above: never renamed). */
export const activityNames = {
  DEPLOY_POSTGRES: 'toygres-activities::activity::deploy-postgres',
  WAIT_FOR_READY: 'toygres-activities::activity::wait-for-ready',
  GET_CONNECTION_STRINGS: 'toygres-activities::activity::get-connection-strings',
  TEST_CONNECTION: 'toygres-activities::activity::test-connection',
  DELETE_POSTGRES: 'toygres-activities::activity::delete-postgres',
  /** The health variant of test-connection: never throws, measures the response time. */
  CHECK_HEALTH: 'toygres-activities::activity::check-health',
  MARK_RUNNING: 'toygres-orchestrations::step::mark-running',
  MARK_FAILED: 'toygres-orchestrations::step::mark-failed',
  REMOVE_METADATA: 'toygres-orchestrations::step::remove-metadata',
  START_HEALTH_CHECK: 'toygres-orchestrations::step::start-health-check',
  STOP_HEALTH_CHECK: 'toygres-orchestrations::step::stop-health-check',
  RECORD_HEALTH: 'toygres-orchestrations::step::record-health',
  RESTART_INSTANCE: 'toygres-orchestrations::step::restart-instance',
  SET_STATE: 'toygres-orchestrations::step::set-state',
  MARK_DELETE_FAILED: 'toygres-orchestrations::step::mark-delete-failed',
  RESTART_POSTGRES: 'toygres-activities::activity::restart-postgres',
  STOP_POSTGRES: 'toygres-activities::activity::stop-postgres',
  START_POSTGRES: 'toygres-activities::activity::start-postgres',
  APPLY_PARAMETERS: 'toygres-activities::activity::apply-parameters',
  CHANGE_PASSWORD: 'toygres-activities::activity::change-password',
  STORE_PASSWORD: 'toygres-activities::activity::store-password',
  COMMIT_PASSWORD: 'toygres-orchestrations::step::commit-password',
  DISCARD_PASSWORD: 'toygres-orchestrations::step::discard-password',
  RESIZE_STORAGE: 'toygres-activities::activity::resize-storage',
  APPLY_LABELS: 'toygres-activities::activity::apply-labels',
  APPLY_NETWORK: 'toygres-activities::activity::apply-network',
  RECORD_SETTINGS: 'toygres-orchestrations::step::record-settings'
} as const

export type ActivityName = typeof activityNames[keyof typeof activityNames]
