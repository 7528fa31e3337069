// The columns an operation is read with, in one place for every statement
// that returns one (operations.ts, and run-writes.ts, which claims the next
// operation on a key as a run ends).
import type { Operation } from '../types.ts'

/** An operation's public columns (Operation). */
export const COLUMNS = `id, name, key, status, input, output, error, idempotency_key, attempts, generation,
  created_at, started_at, finished_at, cancel_requested_at, cancel_reason`

/** The names a claimed row comes back with, in RETURNED's order. */
export const CLAIMED_COLUMNS = [...COLUMNS.split(',').map(c => c.trim()), 'lease', 'lease_job', 'db_now'] as const

/** COLUMNS of an operation aliased `o`, with its lease and the database's clock: a claimed (or due) row. */
export const RETURNED = `${COLUMNS.split(',').map(c => `o.${c.trim()}`).join(', ')}, o.lease, o.lease_job, clock_timestamp() AS db_now`

/** An operation held for a run: its lease, the pg-boss job that woke it (if any), and the database's time of the claim. */
export type Claimed = Operation & { lease: string, lease_job: string | null, db_now: Date }

/** The claimed row a statement returned as columns named `${prefix}${column}` (beside another row's columns). */
export function claimedFrom (row: Record<string, unknown>, prefix: string): Claimed {
  // pg has parsed each column by its type already (timestamptz to Date, jsonb to values): only the names change.
  return Object.fromEntries(CLAIMED_COLUMNS.map(c => [c, row[`${prefix}${c}`]])) as unknown as Claimed
}
