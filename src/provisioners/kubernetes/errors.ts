// API errors translated at the boundary: the Status body's message, code and
// reason in a readable error, the ApiException kept as `cause`. Errors the
// same request would hit again (400 Bad Request, 422 Invalid) are permanent.
import { ApiException } from '@kubernetes/client-node'
import { PermanentProvisionerError } from '../provisioner.ts'

export interface KubeStatus { code: number, reason: string | undefined, message: string | undefined }

export function statusOf (err: unknown): KubeStatus | undefined {
  if (!(err instanceof ApiException)) return undefined
  let body: unknown = err.body
  // The generated client hands over the response text, not the parsed Status.
  if (typeof body === 'string') {
    try { body = JSON.parse(body) } catch { body = undefined }
  }
  const status = (body ?? {}) as { reason?: string, message?: string }
  return { code: err.code, reason: status.reason, message: status.message }
}

export const isNotFound = (err: unknown): boolean => statusOf(err)?.code === 404
export const isAlreadyExists = (err: unknown): boolean => statusOf(err)?.code === 409
export const isForbidden = (err: unknown): boolean => statusOf(err)?.code === 403

/** `action` says what we tried, e.g. `create Secret toygres/orders-credentials`. */
export function kubeError (err: unknown, action: string): Error {
  const status = statusOf(err)
  if (!status) return new Error(`Kubernetes: ${action} failed: ${(err as Error)?.message ?? String(err)}`, { cause: err })
  const message = `Kubernetes: ${action} failed: ${status.message ?? 'no message'} (HTTP ${status.code}${status.reason ? ` ${status.reason}` : ''})`
  return status.code === 400 || status.code === 422
    ? new PermanentProvisionerError(message, { cause: err })
    : new Error(message, { cause: err })
}
