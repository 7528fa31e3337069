// Kubernetes label syntax (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set):
// a key is an optional DNS-subdomain prefix (at most 253 characters) and a
// slash, then a name of at most 63 characters, alphanumeric at both ends
// with '-', '_' and '.' between; a value is empty or the same as a name.
// Prefixes of Kubernetes itself and of Toygres (which marks its objects) are reserved.
import type { FieldError } from '../errors.ts'

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const RESERVED = /(^|\.)(kubernetes\.io|k8s\.io|toygres\.dev)$/
export const MAX_LABELS = 32

/** Problems with each label (values null are removals, always fine). */
export function labelProblems (labels: Record<string, string | null>, field: string): FieldError[] {
  const problems: FieldError[] = []
  if (Object.keys(labels).length > MAX_LABELS) problems.push({ field, message: `must have at most ${MAX_LABELS} labels` })
  for (const [key, value] of Object.entries(labels)) {
    const at = `${field}.${key}`
    const slash = key.indexOf('/')
    const prefix = slash >= 0 ? key.slice(0, slash) : null
    const name = slash >= 0 ? key.slice(slash + 1) : key
    if (prefix !== null && (prefix.length > 253 || !PREFIX.test(prefix))) {
      problems.push({ field: at, message: 'has a prefix that is not a DNS subdomain (lower-case letters, digits, \'-\' and \'.\', at most 253 characters)' })
    } else if (prefix !== null && RESERVED.test(prefix)) {
      problems.push({ field: at, message: `uses the reserved prefix ${prefix}/` })
    }
    if (name.length > 63 || !NAME.test(name)) {
      problems.push({ field: at, message: 'is not a label name: at most 63 characters, letters and digits at both ends, with \'-\', \'_\' and \'.\' between' })
    }
    if (value !== null && (value.length > 63 || (value !== '' && !NAME.test(value)))) {
      problems.push({ field: at, message: 'has a value that is not a label value: empty, or at most 63 characters, letters and digits at both ends, with \'-\', \'_\' and \'.\' between' })
    }
  }
  return problems
}
