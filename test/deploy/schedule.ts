// Health check schedule, measured from toygres.health_checks (the database's
// clock): the gaps between consecutive checks of each instance.

/**
 * Per instance, in seconds: each gap that ends inside (from, to], and the
 * gap still open at `to` (time since the last check), so a monitor that
 * stopped checking shows up instead of vanishing.
 */
export function gapsIn (checks: Map<string, number[]>, names: string[], from: number, to: number): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const name of names) {
    const times = checks.get(name) ?? []
    const gaps: number[] = []
    for (let i = 1; i < times.length; i++) if (times[i]! > from && times[i]! <= to) gaps.push((times[i]! - times[i - 1]!) / 1000)
    const last = times.filter(x => x <= to).at(-1)
    if (last !== undefined) gaps.push((to - last) / 1000)
    out.set(name, gaps)
  }
  return out
}

const round = (x: number): number => Math.round(x * 100) / 100

export function summary (xs: number[]): { n: number, p50: number, p99: number, max: number } {
  const s = [...xs].sort((a, b) => a - b)
  const at = (p: number): number => s.length === 0 ? NaN : round(s[Math.min(s.length - 1, Math.floor(p * s.length))]!)
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length === 0 ? NaN : round(s.at(-1)!) }
}
