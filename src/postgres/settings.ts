// Checks a postgresql.conf setting the way the server will, against the
// server's own pg_settings row: booleans, integers and reals with their
// memory and time units converted to the parameter's base unit and held to
// its range, enums by their listed values (PostgreSQL docs, 20.1.1
// "Parameter Names and Values"). So a bad value is refused before anything
// is changed, naming the parameter and what it takes.

/** The pg_settings columns the check needs. */
export interface SettingRow {
  name: string
  vartype: 'bool' | 'enum' | 'integer' | 'real' | 'string'
  /** Base unit, e.g. "8kB", "kB", "ms", "s", "min"; null when unitless. */
  unit: string | null
  min_val: string | null
  max_val: string | null
  enumvals: string[] | null
  /** internal, postmaster, sighup, superuser-backend, backend, superuser, user. */
  context: string
}

/** Settings Toygres owns: changing them would cut it off from the instance or break TLS. */
export const MANAGED_SETTINGS = new Set([
  'listen_addresses', 'port', 'unix_socket_directories', 'data_directory', 'config_file', 'hba_file', 'ident_file',
  'ssl', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file', 'ssl_crl_file', 'ssl_crl_dir', 'external_pid_file'
])

const MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }
const BOOL = ['on', 'off', 'true', 'false', 'yes', 'no', '1', '0']

/** Factor of a unit (or of a base unit like "8kB") in bytes or milliseconds, and which kind it is. */
function unitFactor (unit: string): { kind: 'memory' | 'time', factor: number } | undefined {
  const m = /^(\d*)\s*([a-zA-Z]+)$/.exec(unit)
  if (!m) return undefined
  const times = m[1] ? Number(m[1]) : 1
  if (m[2]! in MEMORY) return { kind: 'memory', factor: times * MEMORY[m[2]!]! }
  if (m[2]! in TIME) return { kind: 'time', factor: times * TIME[m[2]!]! }
  return undefined
}

/** null when `value` is acceptable for `row`; otherwise what is wrong, in words. */
export function settingProblem (row: SettingRow, value: string): string | null {
  if (MANAGED_SETTINGS.has(row.name)) return 'is managed by Toygres (it keeps the instance reachable and encrypted) and cannot be changed'
  if (row.context === 'internal') return 'is fixed when PostgreSQL is built and cannot be changed'
  const v = value.trim()
  switch (row.vartype) {
    case 'bool': {
      const lower = v.toLowerCase()
      const matches = BOOL.filter(b => lower.length > 0 && b.startsWith(lower))
      return matches.length > 0 && new Set(matches.map(b => ['on', 'true', 'yes', '1'].includes(b))).size === 1 ? null : 'must be a boolean: on or off (also true/false, yes/no, 1/0)'
    }
    case 'enum': {
      const allowed = row.enumvals ?? []
      return allowed.some(e => e.toLowerCase() === v.toLowerCase()) ? null : `must be one of ${allowed.join(', ')}`
    }
    case 'string': return null
    case 'integer':
    case 'real': return numberProblem(row, v)
  }
}

function numberProblem (row: SettingRow, v: string): string | null {
  const base = row.unit ? unitFactor(row.unit) : undefined
  const unitWords = base ? ` (${base.kind === 'memory' ? 'memory units B, kB, MB, GB, TB' : 'time units us, ms, s, min, h, d'}; plain numbers are in ${row.unit})` : ''
  const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([a-zA-Z]*)$/.exec(v)
  if (!m) return `must be ${row.vartype === 'integer' ? 'a whole number' : 'a number'}${unitWords}`
  let n = Number(m[1])
  if (m[2]) {
    const given = unitFactor(m[2])
    if (!base || !given || given.kind !== base.kind || !/^[a-zA-Z]+$/.test(m[2])) return `has the unit "${m[2]}", which it does not take${unitWords}`
    n = n * given.factor / base.factor
  }
  if (row.vartype === 'integer') {
    if (!m[2] && !Number.isInteger(n)) return `must be a whole number${unitWords}`
    n = Math.round(n)
  }
  const min = row.min_val === null ? -Infinity : Number(row.min_val)
  const max = row.max_val === null ? Infinity : Number(row.max_val)
  if (n < min || n > max) return `must be between ${row.min_val} and ${row.max_val}${row.unit ? ` ${row.unit}` : ''}`
  return null
}
