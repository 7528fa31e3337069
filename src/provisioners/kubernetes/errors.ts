// API errors translated at the boundary: the Status body's message, code and
// reason in a readable error, the ApiException kept as `cause`. Errors the
// same request would hit again are permanent: 400 Bad Request, 422 Invalid,
// and 403 Forbidden (RBAC, admission), which only a person can change.
import { ApiException } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'

export interface KubeStatus {
  code: number
  reason: string | undefined
  message: string | undefined
  /** details.causes[].reason, e.g. NamespaceTerminating. */
  causes: string[]
}

/**
 * The API's Status (code, reason, message, details.causes[].reason) carried by
 * `err` or by its `cause`, so also by an error kubeError made; undefined for
 * anything without an ApiException, such as a transport failure. Status:
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
 */
export function statusOf (err: unknown): KubeStatus | undefined {
  const api = err instanceof ApiException ? err : (err as { cause?: unknown })?.cause instanceof ApiException ? (err as { cause: ApiException<unknown> }).cause : undefined
  if (!api) return undefined
  let body: unknown = api.body
  // The generated client hands over the response text, not the parsed Status.
  if (typeof body === 'string') {
    try { body = JSON.parse(body) } catch { body = undefined }
  }
  const status = (body ?? {}) as { reason?: string, message?: string, details?: { causes?: Array<{ reason?: string }> } }
  return { code: api.code, reason: status.reason, message: status.message, causes: (status.details?.causes ?? []).map(c => c.reason ?? '') }
}

/** HTTP 404 from the API. */
export const isNotFound = (err: unknown): boolean => statusOf(err)?.code === 404
/** HTTP 409 other than Conflict: AlreadyExists, a create that found an object of that name. */
export const isAlreadyExists = (err: unknown): boolean => statusOf(err)?.code === 409 && statusOf(err)?.reason !== 'Conflict'
/** HTTP 409 Conflict: a write with a stale resourceVersion, or a uid precondition that no longer holds. */
export const isConflict = (err: unknown): boolean => statusOf(err)?.code === 409 && statusOf(err)?.reason === 'Conflict'
/** HTTP 403 from the API: RBAC or an admission plugin refused (permanent, see kubeError). */
export const isForbidden = (err: unknown): boolean => statusOf(err)?.code === 403
/** The NamespaceLifecycle admission plugin's refusal: the namespace is being deleted. */
export const isNamespaceTerminating = (err: unknown): boolean => !!statusOf(err)?.causes.includes('NamespaceTerminating')

const PERMANENT = new Set([400, 403, 422])

/** A failure below HTTP in words: fetch's own "fetch failed" hides the reason in its cause (ECONNREFUSED, ENOTFOUND, a TLS error). */
function transportMessage (err: unknown): string {
  const message = (err as Error)?.message ?? String(err)
  const cause = (err as { cause?: { message?: string, code?: string } })?.cause
  if (!cause) return message
  return `${message} (${cause.message ?? cause.code})`
}

/** `action` says what we tried, e.g. `create Secret toygres/orders-credentials`. */
export function kubeError (err: unknown, action: string): Error {
  const status = statusOf(err)
  if (!status) return new Error(`Kubernetes: ${action} failed: ${transportMessage(err)}`, { cause: err })
  const message = `Kubernetes: ${action} failed: ${status.message ?? 'no message'} (HTTP ${status.code}${status.reason ? ` ${status.reason}` : ''})`
  return PERMANENT.has(status.code)
    ? new PermanentProvisionerError(message, { cause: err })
    : new Error(message, { cause: err })
}
