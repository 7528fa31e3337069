// SQL for the planner statistics of the engine's own tables (statistics.ts).
import type { Queryable } from '../../db/queryable.ts'

/** The engine's tables whose row counts swing with the work: the plans of every claim and run write read them. */
export const ENGINE_TABLES = ['operations', 'operation_steps', 'operation_keys'] as const

/**
 * The engine's tables, among ENGINE_TABLES, whose size on disk
 * (pg_relation_size, in pages) outgrew what the planner believes
 * (pg_class.relpages, as of the last ANALYZE or VACUUM) by more than
 * `factor` times and `minPages` pages; only those the current role may
 * analyze (it owns them, or is a member of their owner's role). The size
 * is read from the files at once, unlike the cumulative statistics'
 * row counts, which backends publish about once a second.
 */
export async function selectStaleTables (db: Queryable, factor: number, minPages: number): Promise<string[]> {
  const { rows } = await db.query<{ relname: string }>({
    name: 'toygres-select-stale-tables',
    text: `SELECT c.relname FROM pg_class c
       CROSS JOIN LATERAL (SELECT pg_relation_size(c.oid) / current_setting('block_size')::bigint AS pages) s
     WHERE c.relnamespace = 'toygres'::regnamespace AND c.relname = ANY($1::text[]) AND c.relkind = 'r'
       AND pg_has_role(c.relowner, 'USAGE') AND s.pages > c.relpages * $2 AND s.pages - c.relpages > $3
     ORDER BY c.relname`,
    values: [ENGINE_TABLES, factor, minPages]
  })
  return rows.map(r => r.relname)
}

/**
 * ANALYZE of `tables` (names from ENGINE_TABLES only: they are spliced into
 * the statement), skipping any whose lock another ANALYZE or VACUUM holds.
 */
export async function analyzeTables (db: Queryable, tables: readonly string[]): Promise<void> {
  const names = tables.filter(t => (ENGINE_TABLES as readonly string[]).includes(t))
  if (names.length > 0) await db.query(`ANALYZE (SKIP_LOCKED) ${names.map(t => `toygres.${t}`).join(', ')}`)
}
