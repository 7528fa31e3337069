// SQL for toygres.operation_steps: the checkpoints of each operation.
import type { Queryable } from '../../db/queryable.ts'
import type { StepRecord } from '../types.ts'
import { writeRuns, type CheckpointRow, type RunWriteResult } from './run-writes.ts'

/** The histories of the operations a batch of runs claimed, by operation id, in one query. */
export async function selectHistories (db: Queryable, operationIds: string[]): Promise<Map<string, StepRecord[]>> {
  const histories = new Map<string, StepRecord[]>(operationIds.map(id => [id, []]))
  if (operationIds.length === 0) return histories
  const { rows } = await db.query<StepRecord & { operation_id: string }>({
    name: 'toygres-select-histories',
    text: `SELECT operation_id, position, name, status, attempts, started_at, finished_at, output, error, progress
     FROM toygres.operation_steps WHERE operation_id = ANY($1::uuid[]) ORDER BY operation_id, position`,
    values: [operationIds]
  })
  for (const { operation_id: id, ...step } of rows) histories.get(id)!.push(step)
  return histories
}

/** The whole history of an operation, in one query. */
export async function selectSteps (db: Queryable, operationId: string): Promise<StepRecord[]> {
  const { rows } = await db.query<StepRecord>({
    name: 'toygres-select-steps',
    text: `SELECT position, name, status, attempts, started_at, finished_at, output, error, progress
     FROM toygres.operation_steps WHERE operation_id = $1 ORDER BY position`,
    values: [operationId]
  })
  return rows
}

export type { CheckpointRow } from './run-writes.ts'

/** One run's checkpoint rows, fenced by its lease (writeRuns without an end). */
export async function writeCheckpoint (db: Queryable, operationId: string, lease: string, ...rows: CheckpointRow[]): Promise<RunWriteResult> {
  return (await writeRuns(db, [{ operationId, lease, rows }])).results[0]!
}

export async function deleteSteps (db: Queryable, operationId: string): Promise<void> {
  await db.query('DELETE FROM toygres.operation_steps WHERE operation_id = $1', [operationId])
}
