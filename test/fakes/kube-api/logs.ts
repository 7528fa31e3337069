// GET /api/v1/namespaces/{ns}/pods/{name}/log: the API server's LogLocation
// checks (pkg/registry/core/pod/strategy.go), then the kubelet's choice of
// container instance (validateContainerLogStatus in pkg/kubelet/kubelet_pods.go)
// and its CRI log reader (pkg/kubelet/kuberuntime/logs): tailLines,
// sinceSeconds/sinceTime, timestamps, limitBytes, previous, follow.
import { open, type FileHandle } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseCri, type LogLine } from './container-log.ts'
import type { Kubelet } from './kubelet.ts'
import { badRequest, notFound } from './status.ts'
import type { Store } from './store.ts'
import { nanoTimestamp } from './util.ts'

/** Whole lines from `from` on; the handle stays open, so a log removed with its pod can still be drained. */
async function readFrom (fh: FileHandle | undefined, from: number): Promise<{ text: string, size: number }> {
  if (!fh) return { text: '', size: from }
  const { size } = await fh.stat()
  if (size <= from) return { text: '', size: from }
  const buf = Buffer.alloc(size - from)
  await fh.read(buf, 0, buf.length, from)
  // Only whole lines: a partial last line waits for the next read.
  const text = buf.toString('utf8')
  const end = text.lastIndexOf('\n') + 1
  return { text: text.slice(0, end), size: from + Buffer.byteLength(text.slice(0, end)) }
}

export async function serveLogs (store: Store, kubelet: Kubelet, ns: string, name: string, url: URL, _req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = url.searchParams
  const pod = store.get('pods', ns, name)
  if (!pod) throw notFound('pods', name)
  const names: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name)
  let container = q.get('container') ?? undefined
  if (!container) {
    if (names.length !== 1) throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`)
    container = names[0]!
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`)
  if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`)
  const previous = q.get('previous') === 'true'
  const cs = (pod.status?.containerStatuses ?? []).find((s: { name: string }) => s.name === container)
  if (!cs) throw badRequest(`container "${container}" in pod "${name}" is not available`)
  const last = cs.lastState?.terminated
  const { waiting, running, terminated } = cs.state ?? {}
  let id: string | undefined
  if (previous) {
    if (!last?.containerID) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`)
    id = last.containerID
  } else if (running) id = cs.containerID
  else if (terminated) id = terminated.containerID || last?.containerID
  else if (last) id = last.containerID
  else if (waiting) {
    const why = waiting.reason === 'ErrImagePull' ? "image can't be pulled" : waiting.reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : waiting.reason
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`)
  }
  if (!id) throw badRequest(`container "${container}" in pod "${name}" is waiting to start - no logs yet`)
  const rt = kubelet.pods.get(pod.metadata.uid!)
  const instance = rt?.instances.get(id)

  const tail = q.has('tailLines') ? Number(q.get('tailLines')) : undefined
  const sinceSeconds = q.has('sinceSeconds') ? Number(q.get('sinceSeconds')) : undefined
  const sinceTime = q.get('sinceTime') ? new Date(q.get('sinceTime')!) : undefined
  const since = sinceSeconds !== undefined ? new Date(Date.now() - sinceSeconds * 1000) : sinceTime
  const timestamps = q.get('timestamps') === 'true'
  const limitBytes = q.has('limitBytes') ? Number(q.get('limitBytes')) : Infinity
  const follow = q.get('follow') === 'true' && !previous

  const start = (): void => {
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' })
    res.flushHeaders()
  }
  if (!instance) { start(); res.end(); return }
  let written = 0
  const emit = (lines: LogLine[]): boolean => {
    for (const l of lines) {
      if (since && l.time < since) continue
      const text = `${timestamps ? `${nanoTimestamp(l.time)} ` : ''}${l.text}\n`
      const room = limitBytes - written
      if (room <= 0) return false
      const chunk = Buffer.byteLength(text) > room ? Buffer.from(text).subarray(0, room) : text
      res.write(chunk)
      written += Buffer.byteLength(chunk)
    }
    return written < limitBytes
  }
  const fh = await open(instance.log.path, 'r').catch(() => undefined)
  try {
    // What is there now, read before the client sees the response start: a follow misses nothing after it.
    let { text, size } = await readFrom(fh, 0)
    start()
    let lines = parseCri(text)
    if (tail !== undefined && tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail))
    if (!emit(lines) || !follow) return
    let closed = false
    res.on('close', () => { closed = true })
    while (!closed) {
      const finished = instance.finished
      const now = store.get('pods', ns, name)
      ;({ text, size } = await readFrom(fh, size))
      if (text && !emit(parseCri(text))) break
      if (finished || !now || now.metadata.uid !== pod.metadata.uid) break
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  } finally {
    await fh?.close()
    res.end()
  }
}
