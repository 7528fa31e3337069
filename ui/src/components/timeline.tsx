// An operation's steps as they happen: each with its status, how long it
// took (or has taken so far), its attempts when it was retried, the error
// that made it retry or fail, and what a running step waits for.
import type { JSX } from 'preact'
import type { Operation } from '../api.ts'
import { clock, duration, shortName, timestamp } from '../format.ts'
import { StatusBadge } from './badges.tsx'

type Step = Operation['steps'][number]

const elapsed = (from: string, to: string | null, now: number): number => (to ? Date.parse(to) : now) - Date.parse(from)

function StepItem (props: { step: Step, now: number }): JSX.Element {
  const s = props.step
  const live = !s.finished_at
  return (
    <li class={`step ${s.status}`} data-step={shortName(s.name)} data-status={s.status}>
      <div class="step-head">
        <StatusBadge status={s.status} />
        <span class="step-name">{shortName(s.name)}</span>
        <span class="step-time"><time dateTime={s.started_at} title={timestamp(s.started_at)}>{clock(s.started_at)}</time> · {live ? `${duration(elapsed(s.started_at, null, props.now))} so far` : duration(elapsed(s.started_at, s.finished_at, props.now))}</span>
        {s.attempts > 1 && <span class="attempts">{live ? `attempt ${s.attempts}` : `${s.attempts} attempts`}</span>}
      </div>
      {s.progress && live && <p class="waiting"><span class="sr-only">Waiting for: </span><span aria-hidden="true">⏳ </span>{s.progress}</p>}
      {s.error && <p class={s.status === 'failed' ? 'error' : 'retry-reason'}>{s.status === 'failed' ? 'Failed: ' : 'Last error: '}{s.error.message}</p>}
    </li>
  )
}

export function OperationTimeline (props: { op: Operation, kind?: string | undefined, now: number, heading?: 'h2' | 'h3', titled?: boolean }): JSX.Element {
  const op = props.op
  const H = props.heading ?? 'h3'
  const finished = op.finished_at
  const started = op.started_at ?? op.created_at
  return (
    <div class="operation" data-operation={op.id} data-status={op.status}>
      {props.titled !== false && (
        <H class="op-title">
          {props.kind ?? shortName(op.name)} <StatusBadge status={op.status} />
        </H>
      )}
      <p class="op-meta">
        Asked <time dateTime={op.created_at} title={timestamp(op.created_at)}>{timestamp(op.created_at)}</time>
        {' · '}{finished ? `took ${duration(elapsed(started, finished, props.now))}` : op.status === 'pending' ? 'waiting to start' : `${duration(elapsed(started, null, props.now))} so far`}
        {op.cancel_requested_at && !finished ? ' · cancelling' : ''}
      </p>
      {op.error && <p class="error">{op.error.step ? `${shortName(op.error.step)}: ` : ''}{op.error.message}</p>}
      {op.steps.length === 0
        ? <p class="muted">{op.status === 'pending' ? 'No step has started yet.' : 'No steps recorded.'}</p>
        : <ol class="steps" aria-label={`Steps of ${props.kind ?? shortName(op.name)}`}>{op.steps.map(s => <StepItem key={`${s.position}-${s.name}`} step={s} now={props.now} />)}</ol>}
    </div>
  )
}
