// Live progress of an operation, one line per step: for a person at a
// terminal a spinner on the running step (with what it waits for under it),
// then ✔ or ✖ with its duration; without a terminal the same lines, plain,
// as they happen; with -o json nothing (the result is the document).
// Everything goes to stderr: stdout carries only the result.
import ora, { type Ora } from 'ora'
import type { Ctx } from './context.ts'
import { duration, paint, shortName } from './output.ts'

/** The data of a `step` event (src/instances/event-stream.ts). */
export interface StepData {
  operation_id: string
  step?: string
  position?: number
  attempt?: number
  status: 'running' | 'retrying' | 'succeeded' | 'failed' | 'cancelled' | 'sleeping'
  waiting_for?: string
  error?: { message: string }
  duration_ms?: number
}

export interface Progress {
  step (data: StepData): void
  /** What shows while no step does (e.g. "creating demo"). */
  idle (text: string): void
  /** Clears the spinner; the persisted lines stay. */
  done (): void
}

const WIDTH = 24

export function makeProgress (ctx: Ctx, idleText: string): Progress {
  if (ctx.json) return { step () {}, idle () {}, done () {} }
  return ctx.interactive ? terminalProgress(idleText) : plainProgress(ctx)
}

function terminalProgress (idleText: string): Progress {
  const spinner: Ora = ora({ stream: process.stderr, discardStdin: false, text: idleText }).start()
  let idle = idleText
  let showingIdle = true
  const runningText = (d: StepData): string => {
    const name = shortName(d.step)
    const retry = d.status === 'retrying' || (d.attempt ?? 1) > 1
      ? paint('yellow', ` attempt ${d.attempt ?? 2}${d.error ? ` after: ${d.error.message}` : ''}`)
      : ''
    const waiting = d.waiting_for ? `\n  ${paint('dim', `waiting for: ${d.waiting_for}`)}` : ''
    return `${name}${retry}${waiting}`
  }
  return {
    step (d) {
      if (!d.step || d.step.startsWith('$')) return // the engine's own ($now, $uuid)
      if (d.status === 'running' || d.status === 'retrying' || d.status === 'sleeping') {
        spinner.text = runningText(d)
        showingIdle = false
        if (!spinner.isSpinning) spinner.start()
        return
      }
      const ok = d.status === 'succeeded'
      const took = d.duration_ms === undefined ? '' : paint('dim', duration(d.duration_ms))
      const why = !ok && d.error ? `\n  ${paint('red', d.error.message)}` : d.status === 'cancelled' ? `\n  ${paint('red', 'cancelled')}` : ''
      spinner.stopAndPersist({ symbol: ok ? paint('green', '✔') : paint('red', '✖'), text: `${shortName(d.step).padEnd(WIDTH)}${took}${why}` })
      spinner.start(idle)
      showingIdle = true
    },
    idle (text) {
      idle = text
      if (showingIdle) spinner.text = text
    },
    done () { spinner.stop() }
  }
}

function plainProgress (ctx: Ctx): Progress {
  const seen = new Map<string, string>()
  return {
    step (d) {
      if (!d.step || d.step.startsWith('$')) return // the engine's own ($now, $uuid)
      const name = shortName(d.step)
      const key = `${d.operation_id}:${d.position}`
      let line: string | undefined
      if (d.status === 'running' || d.status === 'sleeping') {
        line = d.waiting_for ? `… ${name}: waiting for ${d.waiting_for}` : `… ${name}`
      } else if (d.status === 'retrying') {
        line = `↻ ${name}: attempt ${d.attempt ?? 2}${d.error ? ` after: ${d.error.message}` : ''}`
      } else {
        const took = d.duration_ms === undefined ? '' : ` ${duration(d.duration_ms)}`
        line = d.status === 'succeeded' ? `✔ ${name}${took}` : `✖ ${name}${took}: ${d.error?.message ?? d.status}`
      }
      // Progress is rewritten while a step runs; a line says something new or nothing.
      if (seen.get(key) === line) return
      seen.set(key, line)
      ctx.err(line)
    },
    idle () {},
    done () {}
  }
}
