// pg-boss queue names allow [A-Za-z0-9_.-] only; the plan's orchestration
// names use `::`. The public name stays in toygres.operations; this mapping
// is internal and must stay stable (queued jobs live under it).
import type { PgBoss } from 'pg-boss'

export function queueName (orchestration: string): string {
  const q = orchestration.replaceAll('::', '.').replace(/[^A-Za-z0-9_.-]/g, '_')
  if (q.length === 0) throw new Error('orchestration name must not be empty')
  return q
}

/**
 * Creates the queue if missing. A job only delivers a start or a wake-up and
 * is completed in the transaction that claims its operation (claim.ts), so
 * it never stays active: no heartbeat, retries or expiry are needed. The
 * engine wakes its fetchers with its own NOTIFY (the 'w:' payloads), so
 * pg-boss's is turned off, also on queues made before.
 */
export async function ensureQueue (boss: PgBoss, queue: string): Promise<void> {
  const existing = await boss.getQueue(queue)
  if (existing) {
    if (existing.notify) await boss.updateQueue(queue, { notify: false })
    return
  }
  await boss.createQueue(queue, { notify: false })
}
