// State and health in words with a mark, never by colour alone.
import type { JSX } from 'preact'

const STATE_TONE: Record<string, string> = {
  running: 'ok', creating: 'busy', starting: 'busy', restarting: 'busy', updating: 'busy', stopping: 'busy', deleting: 'busy',
  stopped: 'idle', failed: 'bad', delete_failed: 'bad'
}
const HEALTH_TONE: Record<string, string> = { healthy: 'ok', unhealthy: 'bad', unknown: 'idle', stopped: 'idle' }
const STATUS_TONE: Record<string, string> = { succeeded: 'ok', running: 'busy', pending: 'busy', retrying: 'warn', sleeping: 'busy', failed: 'bad', cancelled: 'idle' }
const MARK: Record<string, string> = { ok: '●', busy: '◌', bad: '✕', idle: '○', warn: '↻' }

function Badge (props: { text: string, tone: string, label?: string }): JSX.Element {
  return <span class={`badge ${props.tone}`} title={props.label}><span aria-hidden="true">{MARK[props.tone]} </span>{props.text.replace('_', ' ')}</span>
}

export const StateBadge = (p: { state: string }): JSX.Element => <Badge text={p.state} tone={STATE_TONE[p.state] ?? 'idle'} />
export const HealthBadge = (p: { health: string }): JSX.Element => <Badge text={p.health} tone={HEALTH_TONE[p.health] ?? 'idle'} />
export const StatusBadge = (p: { status: string }): JSX.Element => <Badge text={p.status} tone={STATUS_TONE[p.status] ?? 'idle'} />
