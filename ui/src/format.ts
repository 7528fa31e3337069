// Words and numbers for people: ages, durations, step and operation names.

/** `toygres-activities::activity::deploy-postgres` → `deploy-postgres`. */
export const shortName = (name: string): string => name.split('::').pop() ?? name

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function duration (ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** How long ago, in one unit: 42 s, 5 min, 3 h, 2 d. */
export function age (iso: string, now = Date.now()): string {
  const s = Math.max(0, (now - Date.parse(iso)) / 1000)
  if (s < 60) return `${Math.floor(s)} s`
  if (s < 3600) return `${Math.floor(s / 60)} min`
  if (s < 86400) return `${Math.floor(s / 3600)} h`
  return `${Math.floor(s / 86400)} d`
}

export const timestamp = (iso: string): string => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
export const clock = (iso: string): string => new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** `env=prod,team=a` → { env: 'prod', team: 'a' }; lines or commas. */
export function parsePairs (text: string): { pairs: Record<string, string>, bad: string[] } {
  const pairs: Record<string, string> = {}
  const bad: string[] = []
  for (const term of text.split(/[\n,]/).map(t => t.trim()).filter(Boolean)) {
    const eq = term.indexOf('=')
    if (eq <= 0) bad.push(term)
    else pairs[term.slice(0, eq).trim()] = term.slice(eq + 1).trim()
  }
  return { pairs, bad }
}

/** A ready-to-paste URI: the connection string with the password percent-encoded (as the API builds it). */
export function withPassword (connectionString: string, password: string): string {
  const url = new URL(connectionString)
  url.password = encodeURIComponent(password)
  return url.toString()
}
