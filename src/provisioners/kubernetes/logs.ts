// read-logs: the server's log through the API (pods/log), the last `tail`
// lines, then, with `follow`, new lines as they come until `signal` aborts
// or the container ends.
import { PassThrough } from 'node:stream'
import { createInterface } from 'node:readline'
import type { V1Pod } from '@kubernetes/client-node'
import type { LogsInput } from '../types.ts'
import { readOwned, type Kube } from './context.ts'
import { kubeError } from './errors.ts'
import { objectNames } from './names.ts'

/**
 * read-logs on Kubernetes (see the header), lines of the `postgres` container.
 * A `tail` of 0 yields nothing without `follow`, and one old line with it
 * (client-node would read 0 as "all"). Throws PermanentProvisionerError when
 * the pod is missing or not this instance's, kubeError's error when the API
 * refuses the log (a container still waiting to start).
 */
export async function * readLogs (k: Kube, input: LogsInput, signal: AbortSignal): AsyncIterable<string> {
  const pod = objectNames(input.instance_name).pod
  await readOwned<V1Pod>(k, 'Pod', input, pod, signal)
  if (input.tail === 0 && !input.follow) return
  const out = new PassThrough()
  // client-node pipes the response into `out` without an error listener on it: ending the
  // request (abort) would otherwise surface as an unhandled 'error' event.
  out.on('pipe', source => source.on('error', () => out.end()))
  let controller: AbortController
  try {
    // tailLines 0 would be dropped by client-node (falsy) and mean "everything".
    controller = await k.client.logs(input.namespace, pod, out, { tailLines: Math.max(1, input.tail), follow: input.follow })
  } catch (err) {
    // client-node drops the Status body of a 400 ("container is waiting to start..."): ask again for the message.
    await k.client.logTail(input.namespace, pod, { previous: false, tailLines: 1 }, signal)
    throw kubeError(err, `read the log of Pod ${input.namespace}/${pod}`)
  }
  const stop = (): void => { controller.abort(); out.end() }
  signal.addEventListener('abort', stop, { once: true })
  try {
    for await (const line of createInterface({ input: out, crlfDelay: Infinity })) {
      if (signal.aborted) return
      yield line
    }
  } finally {
    signal.removeEventListener('abort', stop)
    stop()
  }
}
