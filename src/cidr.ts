// CIDR notation (RFC 4632 for IPv4, RFC 4291 section 2.3 for IPv6): an
// address, a slash, a prefix length within the family's width.
import { isIP } from 'node:net'

/** True for `203.0.113.0/24` or `2001:db8::/32`; false for anything else (a bare address included). */
export function isCidr (value: string): boolean {
  const slash = value.lastIndexOf('/')
  if (slash <= 0) return false
  const family = isIP(value.slice(0, slash))
  const bits = value.slice(slash + 1)
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (family === 4 ? 32 : 128)
}
