// The activities of the plan, by name: what the engine runs for each step.
// Four delegate to the provisioner; test-connection talks to the instance.
import type { Provisioner } from '../provisioners/provisioner.ts'
import { activities } from './names.ts'
import { testConnection } from './test-connection.ts'
import type {
  DeletePostgresInput, DeletePostgresOutput, DeployPostgresInput, DeployPostgresOutput, GetConnectionStringsInput,
  GetConnectionStringsOutput, TestConnectionInput, TestConnectionOutput, WaitForReadyInput, WaitForReadyOutput
} from './types.ts'

export type Activity<I, O> = (input: I, signal: AbortSignal) => Promise<O>

export interface ActivityRegistry {
  [activities.DEPLOY_POSTGRES]: Activity<DeployPostgresInput, DeployPostgresOutput>
  [activities.WAIT_FOR_READY]: Activity<WaitForReadyInput, WaitForReadyOutput>
  [activities.GET_CONNECTION_STRINGS]: Activity<GetConnectionStringsInput, GetConnectionStringsOutput>
  [activities.TEST_CONNECTION]: Activity<TestConnectionInput, TestConnectionOutput>
  [activities.DELETE_POSTGRES]: Activity<DeletePostgresInput, DeletePostgresOutput>
}

export function createActivityRegistry (provisioner: Provisioner): ActivityRegistry {
  return {
    [activities.DEPLOY_POSTGRES]: (input, signal) => provisioner.deployPostgres(input, signal),
    [activities.WAIT_FOR_READY]: (input, signal) => provisioner.waitForReady(input, signal),
    [activities.GET_CONNECTION_STRINGS]: (input, signal) => provisioner.getConnectionStrings(input, signal),
    [activities.TEST_CONNECTION]: (input, signal) => testConnection(input, signal),
    [activities.DELETE_POSTGRES]: (input, signal) => provisioner.deletePostgres(input, signal)
  }
}
