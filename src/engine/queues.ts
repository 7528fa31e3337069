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
 * Creates the queue if missing. Settings stick with the first creator. The
 * engine wakes its fetchers with its own NOTIFY (tx.ts enqueueRun), so
 * pg-boss's is turned off, also on queues made before.
 */
export async function ensureQueue (boss: PgBoss, queue: string, heartbeatSeconds: number): Promise<void> {
  const existing = await boss.getQueue(queue)
  if (existing) {
    if (existing.notify) await boss.updateQueue(queue, { notify: false })
    return
  }
  await boss.createQueue(queue, {
    notify: false,
    heartbeatSeconds,
    // A job fails only when its worker died or the database failed under it;
    // the retry replays from checkpoints, so keep retrying for a long time.
    retryLimit: 1000,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 30,
    expireInSeconds: 24 * 60 * 60
  })
}
