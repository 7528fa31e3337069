// The one catalogue of errors a client can see. Every problem+json body the
// API sends is built from an entry here (RFC 9457).
export const catalogue = {
  'bad-request': { status: 400, title: 'Bad request' },
  'validation-failed': { status: 400, title: 'Request validation failed' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': { status: 422, title: 'Idempotency key reused with a different request' },
  'unsupported-version': { status: 422, title: 'PostgreSQL version not available' },
  'namespace-not-allowed': { status: 422, title: 'Namespace not allowed' },
  'invalid-change': { status: 422, title: 'The change cannot be made' },
  'headers-too-large': { status: 431, title: 'Request header fields too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' }
} as const

export type ErrorCode = keyof typeof catalogue

export interface FieldError {
  /** JSON pointer-ish path of the offending field, e.g. `body.name`. */
  readonly field: string
  readonly message: string
}

export class ToygresError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly errors: FieldError[] | undefined

  constructor (code: ErrorCode, detail: string, opts: { errors?: FieldError[], cause?: unknown } = {}) {
    super(detail, { cause: opts.cause })
    this.name = 'ToygresError'
    this.code = code
    this.status = catalogue[code].status
    this.errors = opts.errors
  }
}

export const problemType = (code: ErrorCode): string => `https://toygres.dev/problems/${code}`
