// How results look: JSON (one document) or a borderless table like kubectl's;
// colours only where the stream is a terminal (node:util styleText also
// honours NO_COLOR and FORCE_COLOR).
import { styleText } from 'node:util'
import Table from 'cli-table3'
import type { Ctx } from './context.ts'

type Style = Parameters<typeof styleText>[0]

export const paint = (style: Style, text: string, stream: NodeJS.WriteStream = process.stderr): string =>
  styleText(style, text, { stream })

export function printJson (ctx: Ctx, doc: unknown): void {
  ctx.out(JSON.stringify(doc, null, 2))
}

/** Rows under a header, columns separated by spaces, no borders. */
export function table (head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const t = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: ''
    },
    style: { 'padding-left': 0, 'padding-right': 3, head: [], border: [] }
  })
  for (const row of rows) t.push(row.map(v => (v === null || v === undefined || v === '') ? '-' : String(v)))
  return t.toString().split('\n').map(line => line.trimEnd()).join('\n')
}

/** Key: value lines, keys aligned. */
export function details (pairs: Array<[string, string | number | boolean | null | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v === null || v === undefined || v === '' ? '-' : String(v)}`).join('\n')
}

/** 412ms, 3.1s, 2m05s. */
export function duration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** How long ago, briefly: 45s, 12m, 3h, 2d. */
export function age (iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-'
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172_800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86_400)}d`
}

/** "toygres-activities::activity::deploy-postgres" → "deploy-postgres". */
export const shortName = (name: string | null | undefined): string => name ? name.split('::').pop()! : '-'

/** host:port of a connection string. */
export function address (connectionString: string | null): string | null {
  if (!connectionString) return null
  try { return new URL(connectionString).host } catch { return null }
}
