// The operations list: newest first, a page at a time. Keyset on
// (created_at, id), which migration 011 indexes for traced operations.
import type { Queryable } from '../../db/queryable.ts'
import type { Operation, OperationPage, OperationQuery } from '../types.ts'
import { COLUMNS } from './operations.ts'

/**
 * One statement, unnamed (planned with its values, so a filter left null
 * drops out and `traced` picks the partial index). The cursor's time is
 * read to the microsecond: a JavaScript Date keeps milliseconds, and
 * operations started in one transaction share their created_at. Fetches
 * one more than the page, to know whether another follows.
 */
export function operationPageStatement (q: OperationQuery): { text: string, values: unknown[] } {
  return {
    text: `SELECT ${COLUMNS}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at_us
     FROM toygres.operations
     WHERE ($1::boolean IS NULL OR trace = $1) AND ($2::text IS NULL OR name = $2) AND ($3::text IS NULL OR status = $3)
       AND ($4::text IS NULL OR key = $4) AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $7`,
    values: [q.traced ?? null, q.name ?? null, q.status ?? null, q.key ?? null, q.before?.at ?? null, q.before?.id ?? null, q.limit + 1]
  }
}

export async function selectOperationPage (db: Queryable, q: OperationQuery): Promise<OperationPage> {
  const { rows } = await db.query<Operation & { created_at_us: string }>(operationPageStatement(q))
  const page = rows.slice(0, q.limit)
  const last = page[page.length - 1]
  return {
    operations: page.map(({ created_at_us: _us, ...op }) => op),
    next: rows.length > q.limit && last ? { at: last.created_at_us, id: last.id } : null
  }
}
