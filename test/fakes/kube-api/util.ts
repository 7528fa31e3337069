// Small helpers shared by the fake's controllers: time formats the API uses,
// Go's time.Duration rendering (the kubelet prints back-offs with it),
// resource.Quantity parsing, CIDR matching and docker image references.

/** RFC 3339 with seconds, as metav1.Time serialises. */
export const timestamp = (d = new Date()): string => d.toISOString().replace(/\.\d+Z$/, 'Z')

/** RFC 3339 with nanoseconds (the CRI log format and `timestamps=true`). */
export const nanoTimestamp = (d = new Date()): string => d.toISOString().replace(/\.(\d+)Z$/, (_m, ms: string) => `.${ms.padEnd(9, '0')}Z`)

/** Go's time.Duration.String(): 10s, 1m20s, 5m0s, 300ms. */
export function goDuration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const totalSeconds = ms / 1000
  const h = Math.floor(totalSeconds / 3600)
  const m = Math.floor((totalSeconds % 3600) / 60)
  const s = totalSeconds % 60
  const sec = `${Number.isInteger(s) ? s : Number(s.toFixed(3))}s`
  if (h > 0) return `${h}h${m}m${sec}`
  if (m > 0) return `${m}m${sec}`
  return sec
}

const SUFFIX: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3
}

/** resource.Quantity to a number (bytes for storage). NaN when it does not parse. */
export function quantity (q: unknown): number {
  if (typeof q === 'number') return q
  if (typeof q !== 'string') return Number.NaN
  const m = /^([+-]?\d+(?:\.\d+)?)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?)$/.exec(q.trim())
  if (!m) return Number.NaN
  const base = Number(m[1])
  if (m[2] !== undefined) return base * 10 ** Number(m[2])
  return base * (SUFFIX[m[3] ?? ''] ?? Number.NaN)
}

function ipv4 (ip: string): number | undefined {
  const parts = ip.replace(/^::ffff:/, '').split('.')
  if (parts.length !== 4) return undefined
  let n = 0
  for (const p of parts) {
    const v = Number(p)
    if (!/^\d+$/.test(p) || v > 255) return undefined
    n = n * 256 + v
  }
  return n
}

/** Whether an IPv4 address lies in a CIDR (`10.0.0.0/8`, or a bare address as /32). */
export function inCidr (ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.trim().split('/')
  const bits = bitsText === undefined ? 32 : Number(bitsText)
  const a = ipv4(ip)
  const b = ipv4(net ?? '')
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false
  if (bits === 0) return true
  const mask = 2 ** 32 - 2 ** (32 - bits)
  return (a & mask) >>> 0 === (b & mask) >>> 0
}

/**
 * What containerd pulls for an image reference: docker.io and library/ for
 * short names, :latest when there is no tag (distribution/reference's
 * ParseNormalizedNamed, which the kubelet and containerd use).
 */
export function normalizeImage (image: string): string {
  const [path, digest] = image.split('@') as [string, string | undefined]
  const first = path.split('/')[0] ?? ''
  const hasDomain = path.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')
  let name = hasDomain ? path : `docker.io/${path.includes('/') ? path : `library/${path}`}`
  const slash = name.lastIndexOf('/')
  if (!digest && name.lastIndexOf(':') <= slash) name += ':latest'
  return digest ? `${name}@${digest}` : name
}

/** The kubelet's default pull policy: Always for :latest or no tag, else IfNotPresent (pkg/apis/core/v1/defaults.go). */
export function defaultPullPolicy (image: string): 'Always' | 'IfNotPresent' {
  if (image.includes('@')) return 'IfNotPresent'
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  const tag = colon > slash ? image.slice(colon + 1) : ''
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent'
}

export class Closed extends Error {
  constructor () { super('fake kube-api closed') }
}
