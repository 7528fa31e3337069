// Activity names, from the plan: {crate-name}::{type}::{name}. They are the
// public names of the steps that appear in an operation's timeline.
export const activities = {
  DEPLOY_POSTGRES: 'toygres-activities::activity::deploy-postgres',
  WAIT_FOR_READY: 'toygres-activities::activity::wait-for-ready',
  GET_CONNECTION_STRINGS: 'toygres-activities::activity::get-connection-strings',
  TEST_CONNECTION: 'toygres-activities::activity::test-connection',
  DELETE_POSTGRES: 'toygres-activities::activity::delete-postgres'
} as const

export type ActivityName = typeof activities[keyof typeof activities]
