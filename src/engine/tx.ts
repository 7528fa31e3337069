// Transactions on a pool client, and the adapter that lets pg-boss enqueue
// inside them (send(..., { db })), so "write our rows + enqueue" is atomic.
import { createHash } from 'node:crypto'
import type pg from 'pg'
import type { PgBoss } from 'pg-boss'

export type Client = pg.ClientBase

// The one transaction helper, shared with the rest of the app.
export { inTransaction, onTransactionEnd } from '../db/queryable.ts'

const names = new Map<string, string>()

/** The name pg prepares a pg-boss statement under: one per distinct text, so PostgreSQL plans each once per connection. */
function statementName (text: string): string | undefined {
  let name = names.get(text)
  // Bounded: pg-boss's statements are a few per queue; past that, unnamed ones (each connection keeps what it prepared).
  if (!name && names.size < 1000) {
    name = `pgboss-${createHash('sha1').update(text).digest('hex').slice(0, 16)}`
    names.set(text, name)
  }
  return name
}

export function bossDb (client: Client): { executeSql (text: string, values?: unknown[]): Promise<{ rows: any[] }> } {
  return { executeSql: (text, values) => client.query({ name: statementName(text), text, values: values as any[] }) }
}

export interface JobData { operationId: string }

/**
 * Enqueues the start of an operation with an idempotency key on its queue,
 * in the caller's transaction (insertOperation's NOTIFY wakes the fetchers).
 * A start without one needs no job: it waits due on its row.
 */
export async function enqueueStart (boss: PgBoss, client: Client, queue: string, operationId: string): Promise<void> {
  const data: JobData = { operationId }
  await boss.send(queue, data, { db: bossDb(client) })
}
