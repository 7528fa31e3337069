// One instance: what it is, how to connect, what can be done to it, the
// live step timeline of its operations, its health over time, its event
// history and its server log. One event stream (GET /instances/{name}/events,
// replayed from the start) drives every refresh: no polling but the chart's.
import type { JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, describe, follow, ProblemError, unwrap, type Instance, type Operation, type StreamEvent } from '../api.ts'
import { Actions } from '../components/actions.tsx'
import { HealthBadge, StateBadge, StatusBadge } from '../components/badges.tsx'
import { CopyButton, CopyField, download } from '../components/copy.tsx'
import { HealthChart } from '../components/health-chart.tsx'
import { Logs } from '../components/logs.tsx'
import { SecretPanel } from '../components/secret-panel.tsx'
import { OperationTimeline } from '../components/timeline.tsx'
import { age, clock, duration, shortName, timestamp } from '../format.ts'
import { useNow, useTitle } from '../hooks.ts'
import { Link, navigate, paths } from '../router.tsx'

type Listed = Operation & { kind: string }
const BUSY = new Set(['creating', 'deleting', 'starting', 'stopping', 'restarting', 'updating'])
const HISTORY = 300

/** Runs `fn` once, `ms` after the last call: a burst of events makes one request. */
function debounced (fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms) }
}

export function InstancePage (props: { name: string }): JSX.Element {
  const name = props.name
  useTitle(name)
  const [inst, setInst] = useState<Instance | null>(null)
  const [missing, setMissing] = useState('')
  const [removed, setRemoved] = useState(false)
  const [ops, setOps] = useState<Listed[]>([])
  const [details, setDetails] = useState<Record<string, Operation>>({})
  const [events, setEvents] = useState<StreamEvent[]>([])
  const [, setSecretTick] = useState(0)
  // Earlier operations open on the page (their timelines follow the stream), and operations already listed.
  const expanded = useRef(new Set<string>())
  const listed = useRef(new Set<string>())
  const now = useNow(1000, inst !== null && (BUSY.has(inst.state) || inst.operation?.status === 'running'))

  const loadInstance = async (): Promise<void> => {
    try {
      setInst(unwrap(await api().GET('/instances/{name}', { params: { path: { name } } })))
    } catch (err) {
      if (err instanceof ProblemError && err.problem.status === 404) setMissing(err.problem.detail)
    }
  }
  const loadOps = async (): Promise<void> => {
    const { data } = await api().GET('/instances/{name}/operations', { params: { path: { name }, query: { limit: 20 } } })
    if (data) setOps(data.items as Listed[])
  }
  const loadOp = async (id: string): Promise<void> => {
    const { data } = await api().GET('/operations/{id}', { params: { path: { id } } })
    if (data) setDetails(d => ({ ...d, [id]: data }))
  }

  useEffect(() => {
    void loadInstance()
    void loadOps()
    const refreshInstance = debounced(() => void loadInstance(), 200)
    const refreshOps = debounced(() => void loadOps(), 300)
    const refreshOp = new Map<string, () => void>()
    const stop = follow(`/instances/${encodeURIComponent(name)}/events`, e => {
      setEvents(list => [...list, e].slice(-HISTORY))
      if (e.event === 'removed') { setRemoved(true); return }
      refreshInstance()
      const id = (e.data as { operation_id?: string }).operation_id
      if (e.event === 'operation' || (e.event === 'step' && id && !listed.current.has(id))) {
        if (id) listed.current.add(id)
        refreshOps()
      }
      if (id && expanded.current.has(id)) {
        if (!refreshOp.has(id)) refreshOp.set(id, debounced(() => void loadOp(id), 200))
        refreshOp.get(id)!()
      }
    }, { untilEnd: true, onError: err => setMissing(err.problem.detail), onReconnect: () => { void loadInstance(); void loadOps() } })
    return stop
  }, [name])

  if (missing && !inst) {
    return (
      <>
        <h1>{name}</h1>
        <p class="notice" role="alert">{missing}</p>
        <p><Link href={paths.list}>Back to the instances</Link></p>
      </>
    )
  }
  if (!inst) return <p role="status">Loading {name}…</p>

  const current = inst.operation
  const earlier = ops.filter(o => o.id !== current?.id)
  const toggle = (id: string, open: boolean): void => {
    if (open) { expanded.current.add(id); void loadOp(id) } else expanded.current.delete(id)
  }

  return (
    <>
      <div class="heading">
        <h1><span class="sr-only">Instance </span>{inst.name}</h1>
        <StateBadge state={removed ? 'deleted' : inst.state} />
        <HealthBadge health={inst.health} />
      </div>
      {removed && <p class="notice" role="status">This instance has been deleted. <Link href={paths.list}>Back to the instances</Link></p>}
      {inst.waiting_for && !removed && <p class="waiting" role="status">Waiting for: {inst.waiting_for}</p>}
      {inst.error && <p class="error">Failed{inst.error.step ? ` at ${shortName(inst.error.step)}` : ''}: {inst.error.message}</p>}
      <nav class="sections" aria-label="On this page">
        <a href="#connect">Connect</a> <a href="#timeline">Operations</a> <a href="#health">Health</a> <a href="#events">Events</a> <a href="#logs">Logs</a>
      </nav>
      <SecretPanel name={inst.name} connectionString={inst.ip_connection_string} onDismiss={() => setSecretTick(n => n + 1)} />
      {!removed && <Actions instance={inst} onChanged={() => { void loadInstance(); void loadOps(); setSecretTick(n => n + 1) }} onDeleted={() => navigate(paths.list)} />}

      <div class="columns">
        <section aria-labelledby="overview-title" class="card">
          <h2 id="overview-title">Overview</h2>
          <dl class="facts">
            <dt>PostgreSQL</dt><dd>{inst.postgres_version}{inst.server_version ? <span class="muted"> ({inst.server_version.split(' on ')[0]})</span> : ''}</dd>
            <dt>Storage</dt><dd>{inst.storage_size_gb} GB</dd>
            <dt>Namespace</dt><dd>{inst.namespace}</dd>
            <dt>Created</dt><dd><time dateTime={inst.created_at} title={timestamp(inst.created_at)}>{age(inst.created_at, now)} ago</time>{inst.deployment_time_seconds !== null ? `, ready in ${inst.deployment_time_seconds} s` : ''}</dd>
            <dt>Last health check</dt><dd>{inst.last_health_check_at ? <><time dateTime={inst.last_health_check_at}>{clock(inst.last_health_check_at)}</time>{inst.last_response_time_ms !== null ? `, ${duration(inst.last_response_time_ms)}` : ''}</> : 'none yet'}</dd>
            <dt>Labels</dt><dd>{Object.keys(inst.labels).length ? <ul class="labels">{Object.entries(inst.labels).map(([k, v]) => <li key={k}><span class="chip">{k}={v}</span></li>)}</ul> : 'none'}</dd>
            <dt>Allowed networks</dt><dd>{inst.allowed_cidrs?.length ? inst.allowed_cidrs.join(', ') : 'anywhere'}</dd>
            <dt>Load balancer</dt><dd>{inst.use_load_balancer ? 'public' : 'none'}{inst.dns_name ? ` (${inst.dns_name})` : ''}</dd>
            <dt>Deletion protection</dt><dd>{inst.deletion_protection ? 'on' : 'off'}</dd>
            <dt>Parameters</dt><dd>{Object.keys(inst.parameters).length ? Object.entries(inst.parameters).map(([k, v]) => `${k} = ${v}`).join(', ') : 'defaults'}{inst.pending_restart ? ' (a restart is pending)' : ''}</dd>
          </dl>
        </section>
        <Connect inst={inst} />
      </div>

      <section aria-labelledby="timeline" class="card">
        <h2 id="timeline" tabIndex={-1}>Operations</h2>
        {current ? <OperationTimeline op={current} kind={ops.find(o => o.id === current.id)?.kind} now={now} /> : <p class="muted">No operation yet.</p>}
        {earlier.length > 0 && <h3 class="earlier">Earlier operations</h3>}
        {earlier.map(o => (
          <details key={o.id} class="past-op" onToggle={e => toggle(o.id, (e.currentTarget as HTMLDetailsElement).open)}>
            <summary><span class="op-kind">{o.kind}</span> <StatusBadge status={o.status} /> <span class="muted">{timestamp(o.created_at)}{o.finished_at && o.started_at ? ` · took ${duration(Date.parse(o.finished_at) - Date.parse(o.started_at))}` : ''}</span></summary>
            {details[o.id] ? <OperationTimeline op={details[o.id]!} kind={o.kind} now={now} titled={false} /> : <p role="status">Loading…</p>}
            <p><Link href={paths.operation(o.id)}>Open this operation on its own page</Link></p>
          </details>
        ))}
      </section>

      <section aria-labelledby="health" class="card">
        <h2 id="health" tabIndex={-1}>Health checks</h2>
        <HealthChart name={inst.name} active={!removed && inst.state !== 'stopped'} />
      </section>

      <section aria-labelledby="events" class="card">
        <h2 id="events" tabIndex={-1}>Events</h2>
        <EventHistory events={events} />
      </section>

      <section aria-labelledby="logs" class="card">
        <h2 id="logs" tabIndex={-1}>Server log</h2>
        {removed ? <p class="muted">The instance is gone, and its log with it.</p> : <Logs name={inst.name} />}
      </section>
    </>
  )
}

function Connect (props: { inst: Instance }): JSX.Element {
  const i = props.inst
  const ca = i.ca_certificate
  return (
    <section aria-labelledby="connect" class="card">
      <h2 id="connect" tabIndex={-1}>Connect</h2>
      {i.ip_connection_string
        ? <>
            <CopyField id="conn-ip" label="Connection string" value={i.ip_connection_string} />
            {i.dns_connection_string && <CopyField id="conn-dns" label="Connection string (DNS name)" value={i.dns_connection_string} />}
            <CopyField id="conn-psql" label="psql" value={`PGPASSWORD='<password>' psql "${i.dns_connection_string ?? i.ip_connection_string}"`} />
            <p class="hint">The strings carry no password: add yours (percent-encoded) or set PGPASSWORD. The password was shown once, when the instance was created or its password reset.</p>
          </>
        : <p class="muted">The connection strings appear when the instance has an address.</p>}
      {ca && (
        <div class="ca">
          <h3>CA certificate</h3>
          <p class="hint">Verify the server: save it and connect with <code>sslmode=verify-ca sslrootcert={i.name}-ca.crt</code>.</p>
          <div class="buttons">
            <CopyButton text={ca} label="CA certificate" />
            <button type="button" class="small" onClick={() => download(`${i.name}-ca.crt`, ca, 'application/x-pem-file')}>Download {i.name}-ca.crt</button>
          </div>
          <details><summary>Show the certificate</summary><pre class="pem" tabIndex={0} aria-label="CA certificate (PEM)">{ca}</pre></details>
        </div>
      )}
    </section>
  )
}

function eventText (e: StreamEvent): string | null {
  const d = e.data as Record<string, any>
  switch (e.event) {
    case 'state': return d.from ? `State ${d.from} → ${d.to}` : `Created (${d.to})`
    case 'health': return `Health ${d.from ?? 'unknown'} → ${d.to}${d.error ? `: ${d.error}` : ''}`
    case 'removed': return 'Removed'
    case 'operation': return `${shortName(d.operation ?? 'operation')} ${d.status}${d.error ? `: ${d.error.message ?? d.error}` : ''}`
    case 'step':
      if (d.status === 'retrying') return `${shortName(d.step)} failed attempt ${d.attempt}, retrying${d.error ? `: ${d.error.message ?? d.error}` : ''}`
      if (d.status === 'failed' || d.status === 'cancelled') return `${shortName(d.step)} ${d.status}${d.error ? `: ${d.error.message ?? d.error}` : ''}`
      return null
    default: return null
  }
}

function EventHistory (props: { events: StreamEvent[] }): JSX.Element {
  const shown = props.events.map(e => ({ e, text: eventText(e) })).filter(x => x.text !== null).reverse()
  if (shown.length === 0) return <p class="muted">No events yet.</p>
  return (
    <ol class="events" aria-label="Events, newest first">
      {shown.map(({ e, text }) => {
        const at = (e.data as { at?: string }).at
        return <li key={e.id} data-event={e.event}>{at && <time dateTime={at} title={timestamp(at)}>{clock(at)}</time>} <span>{text}</span></li>
      })}
    </ol>
  )
}
