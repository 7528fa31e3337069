// A pass-through in front of the fake API server that records, as
// RequestInfo, the requests of one client only: give each control plane
// process its own, and their requests are told apart (the fake's own log
// holds everyone's).
import { request as httpRequest, createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requestInfo } from '../fakes/kube-api/api.ts'
import type { FakeKubeApi, RequestRecord } from '../fakes/kube-api/index.ts'

export interface RecordingProxy {
  /** A kubeconfig like the fake's, pointing at this proxy. */
  kubeconfigPath: string
  readonly requests: RequestRecord[]
  close (): Promise<void>
}

export async function recordingProxy (kube: FakeKubeApi): Promise<RecordingProxy> {
  const upstream = new URL(kube.url)
  const requests: RecordingProxy['requests'] = []
  const server = createServer((req, res) => {
    const info = requestInfo(req.method ?? 'GET', new URL(req.url ?? '/', kube.url))
    if (info) requests.push({ ...info.info })
    const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => res.destroy())
    // A watch the client gives up on must end upstream too.
    res.on('close', () => out.destroy())
    req.pipe(out)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const dir = await mkdtemp(join(tmpdir(), 'toygres-kube-proxy-'))
  const kubeconfigPath = join(dir, 'config')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  await writeFile(kubeconfigPath, (await readFile(kube.kubeconfigPath, 'utf8')).replace(`server: ${kube.url}`, `server: ${url}`), { mode: 0o600 })
  return {
    kubeconfigPath,
    requests,
    async close () {
      server.closeAllConnections()
      await new Promise(resolve => server.close(resolve))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
