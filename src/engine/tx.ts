// Transactions on a pool client, and the adapter that lets pg-boss enqueue
// inside them (send(..., { db })), so "write our rows + enqueue" is atomic.
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'
import { CHANNEL } from './sql/operations.ts'

export type Client = pg.ClientBase

// The one transaction helper, shared with the rest of the app.
export { inTransaction } from '../db/queryable.ts'

export function bossDb (client: Client): { executeSql (text: string, values?: unknown[]): Promise<{ rows: any[] }> } {
  return { executeSql: (text, values) => client.query(text, values as any[]) }
}

export interface JobData { operationId: string }

/**
 * Enqueues a run of the operation on its queue, in the caller's transaction.
 * A run due now also wakes the queue's fetchers in every engine (NOTIFY,
 * sent on commit); a timer's wake-up is the alarm of the engine that set it,
 * and the others' polling.
 */
export async function enqueueRun (boss: PgBoss, client: Client, queue: string, operationId: string, startAfter?: Date): Promise<void> {
  const data: JobData = { operationId }
  await boss.send(queue, data, { db: bossDb(client), ...(startAfter ? { startAfter } : {}) })
  if (!startAfter) await client.query({ name: 'toygres-wake-queue', text: `SELECT pg_notify('${CHANNEL}', 'w:' || $1::text)`, values: [queue] })
}
