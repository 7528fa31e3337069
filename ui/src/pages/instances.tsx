// Every instance, filtered by state and label (the API filters), kept
// current by the all-instances event stream (GET /events): one stream,
// not a poll per instance.
import type { JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, describe, follow, unwrap, type Instance, type StreamEvent } from '../api.ts'
import { HealthBadge, StateBadge } from '../components/badges.tsx'
import { age, parsePairs, timestamp } from '../format.ts'
import { useNow, useTitle } from '../hooks.ts'
import { Link, navigate, paths, useLocation } from '../router.tsx'

const STATES: Array<Instance['state']> = ['creating', 'running', 'failed', 'deleting', 'delete_failed', 'stopping', 'stopped', 'starting', 'restarting', 'updating']
const MAX = 500

function matches (i: Instance, state: string, labels: Record<string, string>): boolean {
  return (!state || i.state === state) && Object.entries(labels).every(([k, v]) => i.labels[k] === v)
}

export function Instances (): JSX.Element {
  useTitle('Instances')
  const { query } = useLocation()
  const state = query.get('state') ?? ''
  const label = query.get('label') ?? ''
  const [labelDraft, setLabelDraft] = useState(label)
  const [rows, setRows] = useState<Instance[] | null>(null)
  const [error, setError] = useState('')
  const [truncated, setTruncated] = useState(false)
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting')
  const now = useNow(10_000)
  const rowsRef = useRef<Instance[] | null>(null)
  rowsRef.current = rows

  const selector = parsePairs(label)
  const load = async (): Promise<void> => {
    try {
      const all: Instance[] = []
      let cursor: string | undefined
      do {
        const page = unwrap(await api().GET('/instances', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}), ...(state ? { state: state as Instance['state'] } : {}), ...(label ? { label } : {}) } } }))
        all.push(...page.items)
        cursor = page.next_cursor ?? undefined
      } while (cursor && all.length < MAX)
      setTruncated(cursor !== undefined)
      setRows(all)
      setError('')
    } catch (err) {
      setError(describe(err))
      setRows(r => r ?? [])
    }
  }

  useEffect(() => {
    setRows(null)
    setLabelDraft(label)
    void load()
    const fetchOne = async (name: string): Promise<void> => {
      const { data } = await api().GET('/instances/{name}', { params: { path: { name } } })
      if (!data) return
      setRows(rs => rs && !rs.some(r => r.name === name) && matches(data, state, selector.pairs) ? [...rs, data].sort((a, b) => a.name.localeCompare(b.name)) : rs)
    }
    const apply = (e: StreamEvent): void => {
      const d = e.data as { instance: string, to: string | null, at: string }
      if (e.event === 'removed') return setRows(rs => rs && rs.filter(r => r.name !== d.instance))
      if (e.event !== 'state' && e.event !== 'health') return
      const known = rowsRef.current?.find(r => r.name === d.instance)
      if (!known) { void fetchOne(d.instance); return }
      // An event older than what the list already shows changes nothing.
      if (Date.parse(d.at) < Date.parse(known.updated_at)) return
      setRows(rs => rs && rs.flatMap(r => {
        if (r.name !== d.instance) return [r]
        const next = { ...r, [e.event]: d.to, updated_at: d.at } as Instance
        return matches(next, state, selector.pairs) ? [next] : []
      }))
    }
    const stop = follow('/events', apply, { onOpen: () => setLive('live'), onReconnect: () => { setLive('reconnecting'); void load() } })
    return stop
  }, [state, label])

  const setFilter = (next: { state?: string, label?: string }): void => {
    const q = new URLSearchParams()
    const s = next.state ?? state
    const l = next.label ?? label
    if (s) q.set('state', s)
    if (l) q.set('label', l)
    navigate(q.size ? `/?${q}` : '/', true)
  }
  const badSelector = parsePairs(labelDraft).bad

  return (
    <>
      <div class="heading">
        <h1>Instances</h1>
        <Link href={paths.create} class="button primary">Create an instance</Link>
      </div>
      <form class="filters" role="search" aria-label="Filter instances" noValidate onSubmit={e => { e.preventDefault(); if (badSelector.length === 0) setFilter({ label: labelDraft.trim() }) }}>
        <div class="field">
          <label for="filter-state">State</label>
          <select id="filter-state" value={state} onChange={e => setFilter({ state: e.currentTarget.value })}>
            <option value="">Any state</option>
            {STATES.map(s => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="filter-label">Labels</label>
          <input id="filter-label" placeholder="env=prod,team=a" value={labelDraft} onInput={e => setLabelDraft(e.currentTarget.value)}
            aria-describedby="filter-label-hint" aria-invalid={badSelector.length ? true : undefined} />
          <p id="filter-label-hint" class={badSelector.length ? 'error' : 'hint'}>{badSelector.length ? `"${badSelector[0]}" is not key=value` : 'key=value pairs, all must match'}</p>
        </div>
        <div class="filter-buttons">
          <button type="submit">Filter</button>
          {(state || label) && <button type="button" onClick={() => navigate('/', true)}>Clear</button>}
        </div>
        <p class={`live is-${live}`} role="status">{live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}</p>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {rows === null
        ? <p role="status">Loading…</p>
        : rows.length === 0
          ? <div class="empty"><p>{state || label ? 'No instance matches these filters.' : 'No instances yet.'}</p>{!(state || label) && <Link href={paths.create} class="button primary">Create your first instance</Link>}</div>
          : (
            <table class="instances responsive">
              <caption class="sr-only">Instances{state ? `, state ${state}` : ''}{label ? `, labels ${label}` : ''}: {rows.length}</caption>
              <thead><tr><th scope="col">Name</th><th scope="col">State</th><th scope="col">Health</th><th scope="col">Version</th><th scope="col">Age</th><th scope="col">Labels</th></tr></thead>
              <tbody>
                {rows.map(i => (
                  <tr key={i.name} data-instance={i.name}>
                    <th scope="row" data-label="Name"><Link href={paths.instance(i.name)}>{i.name}</Link></th>
                    <td data-label="State"><StateBadge state={i.state} /></td>
                    <td data-label="Health"><HealthBadge health={i.health} /></td>
                    <td data-label="Version">PostgreSQL {i.postgres_version}</td>
                    <td data-label="Age"><time dateTime={i.created_at} title={timestamp(i.created_at)}>{age(i.created_at, now)}</time></td>
                    <td data-label="Labels">{Object.keys(i.labels).length ? <ul class="labels">{Object.entries(i.labels).map(([k, v]) => <li key={k}><button type="button" class="chip" title={`Show only ${k}=${v}`} onClick={() => setFilter({ label: `${k}=${v}` })}>{k}={v}</button></li>)}</ul> : <span class="muted">none</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      {truncated && <p class="muted">Showing the first {MAX}: narrow the filters to see others.</p>}
    </>
  )
}
