// Kubernetes resource quantities as bytes, enough to compare storage sizes
// (k8s.io/apimachinery/pkg/api/resource: binary Ki..Ei, decimal k..E).
const SUFFIX: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60
}

/**
 * Bytes of a quantity written as digits, an optional fraction and one of the
 * suffixes above (or none). NaN for anything else, including quantities
 * Kubernetes accepts that storage sizes do not use: a sign, an exponent
 * (1e9), the milli suffix (500m).
 */
export function bytesOf (q: string | undefined): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$/.exec(q?.trim() ?? '')
  if (!m || !(m[2]! in SUFFIX)) return Number.NaN
  return Number(m[1]) * SUFFIX[m[2]!]!
}
