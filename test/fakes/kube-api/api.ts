// The HTTP face of the fake: REST paths to store operations, Status bodies on
// error, and `?watch=true` as newline-delimited JSON events.
import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { matcher } from './selectors.ts'
import { badRequest, notFound, StatusError, unauthorized } from './status.ts'
import { RESOURCES, type KubeObject, type ResourceType } from './resources.ts'
import type { Store } from './store.ts'
import { validate } from './validate.ts'

export interface ApiOptions {
  store: Store
  token: string
  /** Registry defaulting (clusterIP, Secret stringData...) before the object is stored. */
  prepare: (resource: string, o: KubeObject) => Promise<void>
  /** DELETE, through the controllers, so a pod terminates before it disappears. */
  remove: (resource: string, namespace: string | undefined, name: string) => Promise<KubeObject>
  /** Open watch responses, so close() can end them. */
  watches: Set<ServerResponse>
  /** Emits 'watch' (resource, namespace) once a watch is established, so tests can act at that moment. */
  events: EventEmitter
}

interface Route { type: ResourceType, namespace: string | undefined, name: string | undefined }

function route (path: string): Route | undefined {
  const p = path.split('/').filter(Boolean)
  let rest: string[]
  if (p[0] === 'api' && p[1] === 'v1') rest = p.slice(2)
  else if (p[0] === 'apis' && p[1] === 'apps' && p[2] === 'v1') rest = p.slice(3)
  else return undefined
  const group = p[0] === 'apis' ? 'apps' : ''
  let namespace: string | undefined
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1]
    rest = rest.slice(2)
  }
  const type = RESOURCES[rest[0] ?? '']
  if (!type || type.group !== group || rest.length > 2) return undefined
  if (type.namespaced !== (namespace !== undefined) && !(type.namespaced && rest.length === 1)) return undefined
  return { type, namespace, name: rest[1] }
}

async function readJson (req: IncomingMessage): Promise<any> {
  let text = ''
  for await (const chunk of req) text += chunk
  if (!text) return undefined
  try { return JSON.parse(text) } catch { throw badRequest('the body of the request was in an unknown format') }
}

function send (res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

export function createApiHandler (opts: ApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { store } = opts

  function requireNamespace (namespace: string | undefined): void {
    if (namespace !== undefined && !store.get('namespaces', undefined, namespace)) throw notFound('namespaces', namespace)
  }

  function watch (r: Route, url: URL, res: ServerResponse): void {
    const match = matcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
    const inScope = (o: KubeObject): boolean => (r.namespace === undefined || o.metadata.namespace === r.namespace) && match(o)
    const since = Number(url.searchParams.get('resourceVersion') || 0)
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    // Like the real server: the client sees 200 at once, not with the first event.
    res.flushHeaders()
    const write = (type: string, object: KubeObject): void => { res.write(`${JSON.stringify({ type, object })}\n`) }
    // Without a resourceVersion, a watch starts with the current state as ADDED events.
    if (since === 0) for (const o of store.list(r.type.resource, r.namespace)) if (inScope(o)) write('ADDED', o)
    const unsubscribe = store.subscribe(since || store.resourceVersion, e => {
      if (e.resource === r.type.resource && inScope(e.object)) write(e.type, e.object)
    })
    opts.watches.add(res)
    const timeout = Number(url.searchParams.get('timeoutSeconds') || 0)
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
    timer?.unref()
    res.on('close', () => { unsubscribe(); clearTimeout(timer); opts.watches.delete(res) })
    opts.events.emit('watch', r.type.resource, r.namespace)
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${opts.token}`) throw unauthorized()
    const url = new URL(req.url ?? '/', 'http://fake')
    const r = route(url.pathname)
    if (!r) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource')
    const { type } = r
    const w = url.searchParams.get('watch')
    if (req.method === 'GET' && r.name === undefined && (w === 'true' || w === '1')) return watch(r, url, res)
    if (req.method === 'GET' && r.name === undefined) {
      const match = matcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
      const items = store.list(type.resource, r.namespace).filter(match)
      return send(res, 200, { kind: `${type.kind}List`, apiVersion: type.apiVersion, metadata: { resourceVersion: String(store.resourceVersion) }, items })
    }
    if (req.method === 'GET') {
      const o = store.get(type.resource, r.namespace, r.name!)
      if (!o) throw notFound(type.resource, r.name!)
      return send(res, 200, o)
    }
    if (req.method === 'POST' && r.name === undefined) {
      const body = await readJson(req) as KubeObject | undefined
      if (!body || typeof body !== 'object') throw badRequest('the body of the request was in an unknown format')
      if (body.kind !== type.kind || body.apiVersion !== type.apiVersion) throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${type.apiVersion}) or kind ${body.kind} is not ${type.kind}`)
      body.metadata ??= { name: '' }
      if (type.namespaced) {
        if (body.metadata.namespace && body.metadata.namespace !== r.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
        body.metadata.namespace = r.namespace
      }
      validate(type, body)
      requireNamespace(r.namespace)
      await opts.prepare(type.resource, body)
      return send(res, 201, store.create(type.resource, body))
    }
    if (req.method === 'DELETE' && r.name !== undefined) {
      await readJson(req)
      return send(res, 200, await opts.remove(type.resource, r.namespace, r.name))
    }
    throw new StatusError(405, 'MethodNotAllowed', `${req.method} is not supported by the fake on this path`)
  }

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy()
      if (err instanceof StatusError) return send(res, err.code, err.body)
      send(res, 500, new StatusError(500, 'InternalError', String(err)).body)
    })
  }
}
