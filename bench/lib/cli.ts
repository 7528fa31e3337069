// Flags (node:util parseArgs), --help from the file's own leading comment,
// and the small helpers every benchmark prints with.
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'

/**
 * Parses argv with `options` (all strings or booleans); `--help` prints the
 * leading `//` comment block of `file` (the benchmark's documentation) and exits.
 */
export function cli<const T extends ParseArgsOptionsConfig> (file: string, options: T, argv = process.argv.slice(2)) {
  if (argv.includes('--help') || argv.includes('-h')) {
    const lines = readFileSync(file, 'utf8').split('\n')
    const doc = lines.slice(0, lines.findIndex(l => !l.startsWith('//'))).map(l => l.replace(/^\/\/ ?/, ''))
    process.stdout.write(doc.join('\n') + '\n')
    process.exit(0)
  }
  return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values
}

/** A number flag: rejects what is not a finite number, instead of running with NaN. */
export function num (value: unknown, flag: string): number {
  const n = Number(value)
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${flag} must be a number, got ${String(value)}`)
  return n
}

/** Nearest-rank percentile (p in 0..100). */
export function pct (xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

export const round = (x: number, digits = 2): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export function summary (xs: number[], digits = 2): { n: number, p50: number, p99: number, max: number, mean: number } {
  return {
    n: xs.length,
    p50: round(pct(xs, 50), digits),
    p99: round(pct(xs, 99), digits),
    max: round(xs.length ? Math.max(...xs) : NaN, digits),
    mean: round(xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN, digits)
  }
}

/** The 1, 5 and 15 minute load averages, for the record: the machine is shared. */
export const load = (): number[] => loadavg().map(x => round(x, 2))

/** A plain text table: the first column left-aligned, the others right-aligned. */
export function table (header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map(r => r.map(c => typeof c === 'number' ? (Number.isFinite(c) ? String(c) : '-') : c))]
  const widths = header.map((_h, i) => Math.max(...cells.map(r => (r[i] ?? '').length)))
  return cells.map(r => r.map((c, i) => i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join('  ')).join('\n') + '\n'
}
