// Container logs as the kubelet keeps them: one file per container instance in
// the CRI format (`<RFC3339Nano> <stream> F <line>`, see
// pkg/kubelet/kuberuntime/logs/logs.go), which the log endpoint reads back.
import { appendFileSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { nanoTimestamp } from './util.ts'

export class LogWriter {
  readonly path: string
  readonly #partial = { stdout: '', stderr: '' }
  readonly #rewrite: (line: string) => string
  constructor (path: string, rewrite: (line: string) => string = l => l) {
    this.path = path
    this.#rewrite = rewrite
    mkdirSync(dirname(path), { recursive: true })
    appendFileSync(path, '')
  }

  write (stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.#partial[stream] + chunk
    const lines = text.split('\n')
    this.#partial[stream] = lines.pop() ?? ''
    if (lines.length === 0) return
    const now = nanoTimestamp()
    appendFileSync(this.path, lines.map(l => `${now} ${stream} F ${this.#rewrite(l)}\n`).join(''))
  }

  flush (): void {
    for (const s of ['stdout', 'stderr'] as const) if (this.#partial[s]) this.write(s, '\n')
  }
}

export interface LogLine { time: Date, stream: string, text: string }

export function parseCri (content: string): LogLine[] {
  const out: LogLine[] = []
  for (const raw of content.split('\n')) {
    if (!raw) continue
    const first = raw.indexOf(' ')
    const second = raw.indexOf(' ', first + 1)
    const third = raw.indexOf(' ', second + 1)
    out.push({ time: new Date(raw.slice(0, first)), stream: raw.slice(first + 1, second), text: raw.slice(third + 1) })
  }
  return out
}
