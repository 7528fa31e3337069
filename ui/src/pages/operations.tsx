// Recent operations across instances (GET /operations, newest first, a
// page at a time: "Load more" follows the cursor), refreshed when the
// all-instances event stream says something changed; and one operation's
// timeline.
import type { JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, describe, follow, pages, unwrap, type Operation, type Schemas } from '../api.ts'
import { StatusBadge } from '../components/badges.tsx'
import { OperationTimeline } from '../components/timeline.tsx'
import { duration, shortName, timestamp } from '../format.ts'
import { useNow, useTitle } from '../hooks.ts'
import { Link, paths } from '../router.tsx'

type Row = Schemas['OperationList']['items'][number]
const PAGE = 50

/**
 * The newest operations, whole pages, at least PAGE of them and back to
 * `tail` (when the last row shown was asked for), so a refresh keeps what
 * "Load more" added; and the cursor after them.
 */
async function newest (tail: string | null): Promise<{ rows: Row[], next: string | null }> {
  const rows: Row[] = []
  let next: string | null = null
  for await (const page of pages(after => api().GET('/operations', { params: { query: { limit: tail === null ? PAGE : 100, ...after } } }).then(unwrap))) {
    rows.push(...page.items)
    next = page.next_cursor
    if (rows.length >= PAGE && (tail === null || rows[rows.length - 1]!.created_at <= tail)) break
  }
  return { rows, next }
}

export function Operations (): JSX.Element {
  useTitle('Operations')
  const [rows, setRows] = useState<Row[] | null>(null)
  const [next, setNext] = useState<string | null>(null)
  const [loadingMore, setLoadingMore] = useState(false)
  const [error, setError] = useState('')
  // One load at a time, so "Load more" continues from the list it extends; a refresh reloads back to the tail shown.
  const loads = useRef({ queue: Promise.resolve(), tail: null as string | null, next: null as string | null })
  const now = useNow(1000, rows?.some(r => !r.finished_at) ?? false)
  const enqueue = (fn: () => Promise<void>): void => {
    const l = loads.current
    l.queue = l.queue.then(fn).then(() => setError(''), err => setError(describe(err)))
  }
  const refresh = (): void => enqueue(async () => {
    const r = await newest(loads.current.tail)
    loads.current.next = r.next
    loads.current.tail = r.rows.at(-1)?.created_at ?? null
    setRows(r.rows)
    setNext(r.next)
  })
  const more = (): void => enqueue(async () => {
    const cursor = loads.current.next
    if (!cursor) return
    setLoadingMore(true)
    try {
      // Keyset paging: operations started since sort before the first page, so nothing here repeats.
      const page = unwrap(await api().GET('/operations', { params: { query: { limit: PAGE, cursor } } }))
      loads.current.next = page.next_cursor
      loads.current.tail = page.items.at(-1)?.created_at ?? loads.current.tail
      setRows(r => [...(r ?? []), ...page.items])
      setNext(page.next_cursor)
    } finally {
      setLoadingMore(false)
    }
  })
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    refresh()
    const stop = follow('/events', () => { clearTimeout(timer); timer = setTimeout(refresh, 500) }, { onReconnect: refresh })
    return () => { stop(); clearTimeout(timer) }
  }, [])
  return (
    <>
      <h1>Operations</h1>
      <p class="hint">Every instance's operations, newest first, those of deleted instances included until they age out. Health checks are not listed.</p>
      {error && <p class="error" role="alert">{error}</p>}
      {rows === null
        ? <p role="status">Loading…</p>
        : rows.length === 0
          ? <p class="muted">No operations yet.</p>
          : (
            <>
              <table class="responsive">
                <thead><tr><th scope="col">Operation</th><th scope="col">Instance</th><th scope="col">Status</th><th scope="col">Asked</th><th scope="col">Duration</th></tr></thead>
                <tbody>
                  {rows.map(r => (
                    <tr key={r.id} data-operation={r.id}>
                      <th scope="row" data-label="Operation"><Link href={paths.operation(r.id)}>{r.kind}<span class="sr-only"> of {r.instance ?? r.key}, timeline</span></Link></th>
                      <td data-label="Instance">{r.instance ? <Link href={paths.instance(r.instance)}>{r.instance}</Link> : '–'}</td>
                      <td data-label="Status"><StatusBadge status={r.status} /></td>
                      <td data-label="Asked"><time dateTime={r.created_at}>{timestamp(r.created_at)}</time></td>
                      <td data-label="Duration">{r.started_at ? duration((r.finished_at ? Date.parse(r.finished_at) : now) - Date.parse(r.started_at)) : '–'}{!r.finished_at && r.started_at ? ' so far' : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {next && <p><button type="button" onClick={more} disabled={loadingMore}>{loadingMore ? 'Loading…' : 'Load more'}</button></p>}
            </>
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
