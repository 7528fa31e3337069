// What an image pull failure means. The kubelet retries every pull with a
// back-off (10 s doubling to 5 min, pkg/kubelet/images/image_manager.go), so
// most failures heal on their own: registry rate limits (Docker Hub's 429
// toomanyrequests), timeouts, outages, a node's DNS hiccup. Only a reference
// that cannot be valid (InvalidImageName, decided before any pull) or one
// the registry keeps reporting as not there is final.
import type { CoreV1Event } from '@kubernetes/client-node'

// containerd: `rpc error: code = NotFound desc = failed to pull and unpack image ...: not found`;
// registries: `manifest unknown`, `name unknown`; Docker Hub for a repository that does not
// exist: `pull access denied, repository does not exist or may require authorization`.
const NOT_THERE = [/code = NotFound/, /: not found\b/i, /manifest unknown/i, /name unknown/i, /repository does not exist/i]

/**
 * True when a runtime's pull error says the image or repository is not there
 * (see NOT_THERE), rather than a failure that may heal.
 */
export const saysNotFound = (runtimeError: string): boolean => NOT_THERE.some(re => re.test(runtimeError))

/** The runtime's error inside the kubelet's ImagePullBackOff message (`Back-off pulling image "x": ErrImagePull: <error>`, Kubernetes 1.30+). */
export function pullErrorOf (waitingMessage: string | undefined): string | undefined {
  if (!waitingMessage) return undefined
  const at = waitingMessage.indexOf('ErrImagePull: ')
  if (waitingMessage.startsWith('Back-off pulling image')) return at >= 0 ? waitingMessage.slice(at + 'ErrImagePull: '.length) : undefined
  return waitingMessage
}

const PULL_FAILED = /^Failed to pull image "[^"]*": /

/** The last pull error the kubelet reported in an event (`Failed to pull image "x": <error>`). */
export function lastPullError (podEvents: CoreV1Event[]): string | undefined {
  const e = podEvents.findLast(ev => ev.reason === 'Failed' && PULL_FAILED.test(ev.message ?? ''))
  return e?.message?.replace(PULL_FAILED, '')
}

/** How many pulls the registry answered "not found" (identical events are aggregated: their count). */
export function notFoundPulls (podEvents: CoreV1Event[]): number {
  return podEvents
    .filter(e => e.reason === 'Failed' && PULL_FAILED.test(e.message ?? '') && saysNotFound(e.message ?? ''))
    .reduce((n, e) => n + (e.count ?? 1), 0)
}

/** A few words for the status: "429 Too Many Requests", "not found", "i/o timeout". */
export function pullCause (runtimeError: string): string {
  const http = /\b([1-5]\d\d [A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*)/.exec(runtimeError)
  if (http) return http[1]!
  if (saysNotFound(runtimeError)) return 'not found'
  const tail = runtimeError.split(': ').at(-1)!.trim()
  return tail.length > 160 ? `${tail.slice(0, 157)}...` : tail
}
