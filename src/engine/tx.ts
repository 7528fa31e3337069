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

/**
 * Enqueues the start of the operation on its queue, in the caller's
 * transaction (insertOperation's NOTIFY wakes the fetchers).
 */
export async function enqueueStart (boss: PgBoss, client: Client, queue: string, operationId: string): Promise<void> {
  const data: JobData = { operationId }
  await boss.send(queue, data, { db: bossDb(client) })
}
