import type pg from 'pg'

/** A pool, or a client inside the caller's transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

/** What happens once a transaction ends: `committed` after COMMIT succeeded, `aborted` when it rolled back or its outcome is unknown. */
export interface TransactionHook { committed: () => void, aborted: () => void }

const hooks = new WeakMap<pg.ClientBase, TransactionHook[]>()

/**
 * Runs `fn` in a transaction on one pooled client. Hooks registered with
 * onTransactionEnd run after it ends, committed or aborted, in order.
 */
export async function inTransaction<T> (pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  const registered: TransactionHook[] = []
  hooks.set(client, registered)
  let result: T
  try {
    await client.query('BEGIN')
    result = await fn(client)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    for (const hook of registered) hook.aborted()
    throw err
  } finally {
    hooks.delete(client)
    client.release()
  }
  for (const hook of registered) hook.committed()
  return result
}

/**
 * Registers `hook` for the end of the transaction `client` is in; false,
 * registering nothing, when `client` is not inside inTransaction (its end
 * cannot be seen). A COMMIT whose reply is lost counts as aborted, though
 * it may have committed: a hook must leave things safe either way.
 */
export function onTransactionEnd (client: pg.ClientBase, hook: TransactionHook): boolean {
  const registered = hooks.get(client)
  if (!registered) return false
  registered.push(hook)
  return true
}

/** SQLSTATE 23505: a unique constraint said no. */
export const isUniqueViolation = (err: unknown, constraint?: string): boolean =>
  (err as { code?: string }).code === '23505' && (constraint === undefined || (err as { constraint?: string }).constraint === constraint)
