// Parsers for option values: a bad value is a usage error (exit 2) naming it.
import { InvalidArgumentError } from 'commander'

export function positiveInt (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number above 0')
  return n
}

/** For a repeatable option: collects every value. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

/** ["env=prod", "team=a"] → { env: "prod", team: "a" }. */
export function keyValues (pairs: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of pairs) {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new InvalidArgumentError(`${what} "${pair}" is not key=value`)
    out[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return out
}

/** A key=value option, checked as it is parsed. */
export const keyValue = (value: string, previous: string[] = []): string[] => {
  keyValues([value], 'option value')
  return [...previous, value]
}
