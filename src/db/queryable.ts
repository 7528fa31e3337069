import type pg from 'pg'

/** A pool, or a client inside the caller's transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

/** Runs `fn` in a transaction on one pooled client. */
export async function inTransaction<T> (pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

/** SQLSTATE 23505: a unique constraint said no. */
export const isUniqueViolation = (err: unknown, constraint?: string): boolean =>
  (err as { code?: string }).code === '23505' && (constraint === undefined || (err as { constraint?: string }).constraint === constraint)
