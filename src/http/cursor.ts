// Keyset cursors: opaque to clients (base64url JSON), they carry where a
// page ended: its last item's time and id. The time keeps PostgreSQL's
// microseconds: cut to a JavaScript Date's milliseconds, a cursor would skip
// the rows that share the last one's millisecond.
import { ToygresError } from '../errors.ts'

export interface Position {
  /** ISO 8601, to the microsecond. */
  at: string
  id: string
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
export const BIGINT = /^\d{1,18}$/

export const encodeCursor = (p: Position): string => Buffer.from(JSON.stringify({ at: p.at, id: p.id })).toString('base64url')

/** The position in `value`, whose id must look like `id`; anything else is a 400 naming querystring.cursor. */
export function decodeCursor (value: string, id: RegExp): Position {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { at?: unknown, id?: unknown }
    if (typeof parsed.at === 'string' && ISO_TIME.test(parsed.at) && !Number.isNaN(Date.parse(parsed.at)) && typeof parsed.id === 'string' && id.test(parsed.id)) {
      return { at: parsed.at, id: parsed.id }
    }
  } catch {}
  throw new ToygresError('validation-failed', 'querystring.cursor is not a cursor this API returned', { errors: [{ field: 'querystring.cursor', message: 'is not a cursor this API returned' }] })
}
