// metav1.Status bodies exactly as the API server shapes them, because the
// client under test parses `reason`, `code` and `details`.
export interface Cause { reason: string, message: string, field: string }

export class StatusError extends Error {
  readonly code: number
  readonly body: Record<string, unknown>
  constructor (code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message)
    this.code = code
    this.body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code }
  }
}

export const notFound = (resource: string, name: string): StatusError =>
  new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource })

export const alreadyExists = (resource: string, name: string, group = ''): StatusError =>
  new StatusError(409, 'AlreadyExists', `${resource}${group ? `.${group}` : ''} "${name}" already exists`, { name, group, kind: resource })

export const badRequest = (message: string): StatusError => new StatusError(400, 'BadRequest', message)

export function invalid (kind: string, name: string, causes: Cause[], group = ''): StatusError {
  const detail = causes.map(c => `${c.field}: ${c.message}`).join(', ')
  const summary = causes.length === 1 ? detail : `[${detail}]`
  return new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, { name, group, kind, causes })
}

export const unauthorized = (): StatusError => new StatusError(401, 'Unauthorized', 'Unauthorized')
