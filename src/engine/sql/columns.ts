// The columns an operation is read with, in one place for every statement
// that returns one (operations.ts, and run-writes.ts, which claims the next
// operation on a key as a run ends).
import type { Operation } from '../types.ts'

/** An operation's public columns (Operation). */
export const COLUMNS = `id, name, key, status, input, output, error, idempotency_key, attempts, generation,
  created_at, started_at, finished_at, cancel_requested_at, cancel_reason`

/** COLUMNS of an operation aliased `o`, with its lease and the database's clock: a claimed (or due) row. */
export const RETURNED = `${COLUMNS.split(',').map(c => `o.${c.trim()}`).join(', ')}, o.lease, o.lease_job, clock_timestamp() AS db_now`

/** An operation held for a run: its lease, the pg-boss job that woke it (if any), and the database's time of the claim. */
export type Claimed = Operation & { lease: string, lease_job: string | null, db_now: Date }

/**
 * A claimed row that a statement returned as one jsonb value (to_jsonb of
 * a row with RETURNED's columns; other columns are dropped): its timestamps,
 * ISO 8601 strings in JSON, become Dates as pg makes them of timestamptz
 * columns (to the millisecond).
 */
export function claimedFromJson (row: Record<string, unknown>): Claimed {
  const date = (v: unknown): Date | null => typeof v === 'string' ? new Date(v) : null
  const { from_id: _from, passed: _passed, ...claimed } = row
  return {
    ...claimed,
    created_at: date(row.created_at)!,
    started_at: date(row.started_at),
    finished_at: date(row.finished_at),
    cancel_requested_at: date(row.cancel_requested_at),
    db_now: date(row.db_now)!
  } as Claimed
}
