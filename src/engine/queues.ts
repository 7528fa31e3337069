// pg-boss queue names allow [A-Za-z0-9_.-] only; the plan's orchestration
// names use `::`. The public name stays in toygres.operations; this mapping
// is internal and must stay stable (queued jobs live under it).
export function queueName (orchestration: string): string {
  const q = orchestration.replaceAll('::', '.').replace(/[^A-Za-z0-9_.-]/g, '_')
  if (q.length === 0) throw new Error('orchestration name must not be empty')
  return q
}
