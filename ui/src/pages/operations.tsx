// Recent operations across instances, and one operation's timeline. There is
// no cross-instance list in the API yet: this reads GET /instances, then each
// instance's GET /instances/{name}/operations, and refreshes when the
// all-instances event stream says something changed.
import type { JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { api, describe, follow, unwrap, type Instance, type Operation } from '../api.ts'
import { StatusBadge } from '../components/badges.tsx'
import { OperationTimeline } from '../components/timeline.tsx'
import { duration, shortName, timestamp } from '../format.ts'
import { useNow, useTitle } from '../hooks.ts'
import { Link, paths } from '../router.tsx'

type Row = Operation & { kind: string, instance: string }
const PER_INSTANCE = 10
const SHOWN = 100
const PARALLEL = 6

async function recentOperations (): Promise<Row[]> {
  const instances: Instance[] = []
  let cursor: string | undefined
  do {
    const page = unwrap(await api().GET('/instances', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }))
    instances.push(...page.items)
    cursor = page.next_cursor ?? undefined
  } while (cursor && instances.length < 500)
  const rows: Row[] = []
  const queue = [...instances]
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let i = queue.shift(); i; i = queue.shift()) {
      const { data } = await api().GET('/instances/{name}/operations', { params: { path: { name: i.name }, query: { limit: PER_INSTANCE } } })
      for (const op of data?.items ?? []) rows.push({ ...(op as Operation & { kind: string }), instance: i.name })
    }
  }))
  return rows.sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, SHOWN)
}

export function Operations (): JSX.Element {
  useTitle('Operations')
  const [rows, setRows] = useState<Row[] | null>(null)
  const [error, setError] = useState('')
  const now = useNow(1000, rows?.some(r => !r.finished_at) ?? false)
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const load = (): void => { recentOperations().then(r => { setRows(r); setError('') }, err => setError(describe(err))) }
    load()
    const stop = follow('/events', () => { clearTimeout(timer); timer = setTimeout(load, 500) }, { onReconnect: load })
    return () => { stop(); clearTimeout(timer) }
  }, [])
  return (
    <>
      <h1>Operations</h1>
      <p class="hint">The most recent operations of every instance that still exists, newest first. Deleted instances take their history with them.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {rows === null
        ? <p role="status">Loading…</p>
        : rows.length === 0
          ? <p class="muted">No operations yet.</p>
          : (
            <table class="responsive">
              <thead><tr><th scope="col">Operation</th><th scope="col">Instance</th><th scope="col">Status</th><th scope="col">Asked</th><th scope="col">Duration</th></tr></thead>
              <tbody>
                {rows.map(r => (
                  <tr key={r.id}>
                    <th scope="row" data-label="Operation"><Link href={paths.operation(r.id)}>{r.kind}<span class="sr-only"> of {r.instance}, timeline</span></Link></th>
                    <td data-label="Instance"><Link href={paths.instance(r.instance)}>{r.instance}</Link></td>
                    <td data-label="Status"><StatusBadge status={r.status} /></td>
                    <td data-label="Asked"><time dateTime={r.created_at}>{timestamp(r.created_at)}</time></td>
                    <td data-label="Duration">{r.started_at ? duration((r.finished_at ? Date.parse(r.finished_at) : now) - Date.parse(r.started_at)) : '–'}{!r.finished_at && r.started_at ? ' so far' : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
    </>
  )
}

export function OperationPage (props: { id: string }): JSX.Element {
  const [op, setOp] = useState<Operation | null>(null)
  const [error, setError] = useState('')
  useTitle(op ? `${shortName(op.name)} of ${op.key}` : 'Operation')
  const now = useNow(1000, op !== null && !op.finished_at)
  useEffect(() => {
    let stop = (): void => {}
    const load = async (): Promise<Operation | null> => {
      try {
        const got = unwrap(await api().GET('/operations/{id}', { params: { path: { id: props.id } } }))
        setOp(got)
        return got
      } catch (err) {
        setError(describe(err))
        return null
      }
    }
    void load().then(got => {
      // Live while it runs: the instance's stream tells when its steps move.
      if (!got || got.finished_at) return
      let timer: ReturnType<typeof setTimeout> | undefined
      const s = follow(`/instances/${encodeURIComponent(got.key)}/events`, e => {
        if ((e.data as { operation_id?: string }).operation_id !== got.id) return
        clearTimeout(timer)
        timer = setTimeout(() => void load(), 200)
      }, { untilEnd: true })
      stop = () => { s(); clearTimeout(timer) }
    })
    return () => stop()
  }, [props.id])
  if (error && !op) return <><h1>Operation</h1><p class="error" role="alert">{error}</p></>
  if (!op) return <p role="status">Loading…</p>
  return (
    <>
      <h1>{shortName(op.name)} <span class="muted">of</span> <Link href={paths.instance(op.key)}>{op.key}</Link></h1>
      <section class="card" aria-label="Timeline">
        <OperationTimeline op={op} now={now} heading="h2" />
      </section>
      <p><Link href={paths.operations}>All operations</Link></p>
    </>
  )
}
