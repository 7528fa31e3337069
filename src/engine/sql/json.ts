// jsonb parameters are always sent as text: node-pg would turn a JS array
// into a PostgreSQL array. SQL NULL stands for `undefined`, JSON null for null,
// so a step that returns nothing replays as undefined.
export function toJsonb (value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value)
}

export function fromJsonb (value: unknown): unknown {
  return value === null ? undefined : value
}
