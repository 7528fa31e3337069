// Transactions on a pool client, and the adapter that lets pg-boss enqueue
// inside them (send(..., { db })), so "write our rows + enqueue" is atomic.
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'

export type Client = pg.ClientBase

// The one transaction helper, shared with the rest of the app.
export { inTransaction } from '../db/queryable.ts'

export function bossDb (client: Client): { executeSql (text: string, values?: unknown[]): Promise<{ rows: any[] }> } {
  return { executeSql: (text, values) => client.query(text, values as any[]) }
}

export interface JobData { operationId: string }

/** Enqueues a run of the operation on its queue, in the caller's transaction. */
export async function enqueueRun (boss: PgBoss, client: Client, queue: string, operationId: string, startAfter?: Date): Promise<void> {
  const data: JobData = { operationId }
  await boss.send(queue, data, { db: bossDb(client), ...(startAfter ? { startAfter } : {}) })
}
