// Health-check response times and outcomes over the history the API keeps
// (GET /instances/{name}/health, paged back through the retention, up to
// the newest 1,000 checks; then only the checks since the newest one),
// drawn with uPlot: each check a point, failures as red crosses, with the
// same numbers in words and in a table for those who cannot see the chart.
import type { JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { api, describe, pages, unwrap } from '../api.ts'
import { clock, duration, timestamp } from '../format.ts'

const REFRESH_MS = 5000
/** Checks per request: the API's most. */
const PAGE = 500
/** Checks drawn at most. */
const MAX = 1000

interface Check { checked_at: string, ok: boolean, response_time_ms: number, error: string | null }

/** The newest checks, newest first, up to MAX: as many pages as that takes. */
async function history (name: string): Promise<Check[]> {
  const checks: Check[] = []
  for await (const report of pages(after => api().GET('/instances/{name}/health', { params: { path: { name }, query: { limit: PAGE, ...after } } }).then(unwrap))) {
    checks.push(...report.checks)
    if (checks.length >= MAX) break
  }
  return checks.slice(0, MAX)
}

/** `known` with the checks recorded since its newest in front (the whole history again if more came than a page). */
async function withNewer (name: string, known: Check[]): Promise<Check[]> {
  const newest = known[0]?.checked_at
  if (newest === undefined) return history(name)
  const report = unwrap(await api().GET('/instances/{name}/health', { params: { path: { name }, query: { limit: PAGE, since: newest } } }))
  if (report.next_cursor !== null) return history(name)
  // `since` includes the newest already known; ISO times in one format sort as text.
  const fresh = report.checks.filter(c => c.checked_at > newest)
  return fresh.length === 0 ? known : [...fresh, ...known].slice(0, MAX)
}

const failureMark: uPlot.Series.Points.Show = (u, seriesIdx) => {
  // Crosses, not only a colour, for failed checks.
  const ctx = u.ctx
  const [xs, ys] = [u.data[0], u.data[seriesIdx]!]
  ctx.save()
  ctx.strokeStyle = '#b3261e'
  ctx.lineWidth = 2 * devicePixelRatio
  const r = 5 * devicePixelRatio
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i]
    if (y === null || y === undefined) continue
    const cx = u.valToPos(xs[i]!, 'x', true)
    const cy = u.valToPos(y, 'y', true)
    ctx.beginPath()
    ctx.moveTo(cx - r, cy - r); ctx.lineTo(cx + r, cy + r)
    ctx.moveTo(cx + r, cy - r); ctx.lineTo(cx - r, cy + r)
    ctx.stroke()
  }
  ctx.restore()
  return false
}

function summary (checks: Check[]): string {
  if (checks.length === 0) return 'No health checks yet: they start once the instance is running.'
  const ok = checks.filter(c => c.ok).map(c => c.response_time_ms).sort((a, b) => a - b)
  const failed = checks.length - ok.length
  const median = ok.length ? ok[Math.floor(ok.length / 2)]! : null
  const oldest = checks[checks.length - 1]!.checked_at
  return `${checks.length} checks since ${timestamp(oldest)}: ${failed === 0 ? 'all succeeded' : `${failed} failed`}` +
    (median !== null ? `; median ${duration(median)}, slowest ${duration(ok[ok.length - 1]!)}.` : '.')
}

export function HealthChart (props: { name: string, active: boolean }): JSX.Element {
  const [checks, setChecks] = useState<Check[] | null>(null)
  const [error, setError] = useState('')
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)

  useEffect(() => {
    let stopped = false
    let known: Check[] | null = null
    let loading = false
    const load = async (): Promise<void> => {
      if (loading) return
      loading = true
      try {
        known = known === null ? await history(props.name) : await withNewer(props.name, known)
        if (!stopped) { setChecks(known); setError('') }
      } catch (err) {
        if (!stopped) setError(describe(err))
      } finally {
        loading = false
      }
    }
    void load()
    const timer = props.active ? setInterval(load, REFRESH_MS) : undefined
    return () => { stopped = true; clearInterval(timer) }
  }, [props.name, props.active])

  useEffect(() => {
    const el = box.current
    if (!el || !checks || checks.length === 0) return
    const ordered = [...checks].reverse()
    const data: uPlot.AlignedData = [
      ordered.map(c => Date.parse(c.checked_at) / 1000),
      ordered.map(c => c.ok ? c.response_time_ms : null),
      ordered.map(c => c.ok ? null : c.response_time_ms)
    ]
    if (plot.current) { plot.current.setData(data); return }
    plot.current = new uPlot({
      width: Math.max(280, el.clientWidth),
      height: 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] } },
      axes: [
        // Whole seconds at least, as clock times.
        { stroke: '#444', space: 90, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400], values: (_u, ticks) => ticks.map(t => clock(new Date(t * 1000).toISOString())) },
        { stroke: '#444', label: 'ms', size: 50 }
      ],
      series: [
        { value: (_u, v) => v === null ? '–' : clock(new Date(v * 1000).toISOString()) },
        { label: 'Response time', stroke: '#1f5fbf', width: 1.5, spanGaps: false, points: { show: true, size: 5, fill: '#1f5fbf' }, value: (_u, v) => v === null ? '–' : `${v.toFixed(1)} ms` },
        { label: 'Failed check', stroke: '#b3261e', width: 0, paths: () => null, points: { show: failureMark }, value: (_u, v) => v === null ? '–' : `${v.toFixed(1)} ms` }
      ]
    }, data, el)
  }, [checks])
  useEffect(() => {
    const el = box.current!
    const resize = new ResizeObserver(() => { if (el.clientWidth > 0) plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 220 }) })
    resize.observe(el)
    return () => { resize.disconnect(); plot.current?.destroy(); plot.current = null }
  }, [])

  const text = checks ? summary(checks) : 'Loading the health history…'
  return (
    <div class="health-chart">
      {error && <p class="error" role="alert">{error}</p>}
      <p id="health-summary">{text}</p>
      <div ref={box} class="chart" role="img" aria-label={`Health-check response times. ${text}`} data-points={checks?.length ?? 0} hidden={!checks || checks.length === 0} />
      {checks && checks.length > 0 && (
        <details>
          <summary>The latest checks as a table</summary>
          <table>
            <thead><tr><th scope="col">Checked</th><th scope="col">Outcome</th><th scope="col">Response time</th></tr></thead>
            <tbody>
              {checks.slice(0, 20).map(c => (
                <tr key={c.checked_at}><td><time dateTime={c.checked_at}>{timestamp(c.checked_at)}</time></td><td>{c.ok ? 'succeeded' : `failed: ${c.error ?? ''}`}</td><td>{duration(c.response_time_ms)}</td></tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  )
}
