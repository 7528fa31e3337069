// metav1.Status bodies exactly as the API server shapes them, because the
// client under test parses `reason`, `code` and `details`
// (k8s.io/apimachinery/pkg/api/errors/errors.go).
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

export const notFound = (resource: string, name: string, group = ''): StatusError =>
  new StatusError(404, 'NotFound', `${resource}${group ? `.${group}` : ''} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource })

export const alreadyExists = (resource: string, name: string, group = ''): StatusError =>
  new StatusError(409, 'AlreadyExists', `${resource}${group ? `.${group}` : ''} "${name}" already exists`, { name, group, kind: resource })

/** errors.NewConflict: a stale resourceVersion on update. */
export const conflict = (resource: string, name: string, group = ''): StatusError =>
  new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${resource}${group ? `.${group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`, { name, group, kind: resource })

/** errors.NewForbidden: `<resource> "<name>" is forbidden: <reason>`. */
export const forbidden = (resource: string, name: string, message: string, group = '', causes?: Cause[]): StatusError =>
  new StatusError(403, 'Forbidden', `${resource}${group ? `.${group}` : ''} "${name}" is forbidden: ${message}`, { name, group, kind: resource, ...(causes ? { causes } : {}) })

export const badRequest = (message: string): StatusError => new StatusError(400, 'BadRequest', message)

export function invalid (kind: string, name: string, causes: Cause[], group = ''): StatusError {
  const detail = causes.map(c => `${c.field}: ${c.message}`).join(', ')
  const summary = causes.length === 1 ? detail : `[${detail}]`
  return new StatusError(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${summary}`, { name, group, kind, causes })
}

export const unauthorized = (): StatusError => new StatusError(401, 'Unauthorized', 'Unauthorized')
