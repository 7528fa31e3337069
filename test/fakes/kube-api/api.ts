// The HTTP face of the fake: REST paths to store operations, Status bodies on
// error, `?watch=true` as newline-delimited JSON events, PUT/PATCH with
// optimistic concurrency, the statefulsets/scale, pods/log and pods/eviction
// subresources, and a record of every request as RequestInfo sees it.
import type { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Controllers, DeleteOptions } from './controllers.ts'
import { serveLogs } from './logs.ts'
import { applyPatch } from './patch.ts'
import { exactName, matcher, selectorString, unsupportedField } from './selectors.ts'
import { badRequest, conflict, invalid, notFound, StatusError, unauthorized } from './status.ts'
import { GROUP_VERSIONS, RESOURCES, type KubeObject, type ResourceType } from './resources.ts'
import type { Store } from './store.ts'
import { validate } from './validate.ts'

/**
 * One request as k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
 * resolves it: the attributes an RBAC rule matches on.
 */
export interface RequestRecord {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | string
  apiGroup: string
  apiVersion: string
  resource: string
  subresource: string
  namespace: string
  name: string
}

export interface ApiOptions {
  store: Store
  token: string
  controllers: Controllers
  /** Open watch and log-follow responses, so close() can end them. */
  watches: Set<ServerResponse>
  /** Emits 'watch' (resource, namespace) once a watch is established, so tests can act at that moment. */
  events: EventEmitter
  requests: RequestRecord[]
}

/** GET /version, as k8s.io/apimachinery/pkg/version.Info. */
const VERSION = { major: '1', minor: '33', gitVersion: 'v1.33.0-fake', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.24.0', compiler: 'gc', platform: 'linux/amd64' }

interface Route { type: ResourceType | undefined, info: RequestRecord }

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize'])

/** RequestInfoFactory.NewRequestInfo, for the /api and /apis prefixes. */
export function requestInfo (method: string, url: URL): Route | undefined {
  const p = url.pathname.split('/').filter(Boolean)
  let rest: string[]
  let apiGroup = ''
  let apiVersion: string
  if (p[0] === 'api' && p.length >= 2) { apiVersion = p[1]!; rest = p.slice(2) } else if (p[0] === 'apis' && p.length >= 3) { apiGroup = p[1]!; apiVersion = p[2]!; rest = p.slice(3) } else return undefined
  const info: RequestRecord = { verb: '', apiGroup, apiVersion, resource: '', subresource: '', namespace: '', name: '' }
  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      info.namespace = rest[1]!
      if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2)
    }
  }
  info.resource = rest[0] ?? ''
  info.name = rest[1] ?? ''
  info.subresource = rest[2] ?? ''
  const verbs: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }
  info.verb = verbs[method] ?? method.toLowerCase()
  if (!info.name && info.verb === 'get') {
    const w = url.searchParams.get('watch')
    info.verb = w === 'true' || w === '1' ? 'watch' : 'list'
    const n = exactName(url.searchParams.get('fieldSelector'))
    if (n) info.name = n
  }
  if (!info.name && info.verb === 'delete') info.verb = 'deletecollection'
  const type = RESOURCES[info.resource]
  const valid = type && type.group === apiGroup && GROUP_VERSIONS[apiGroup] === apiVersion && rest.length <= 3 &&
    (type.namespaced || info.namespace === '' || info.resource === 'namespaces')
  return { type: valid ? type : undefined, info }
}

async function readBody (req: IncomingMessage): Promise<any> {
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
  const { store, controllers } = opts

  function watch (type: ResourceType, namespace: string, url: URL, res: ServerResponse): void {
    const match = matcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
    const inScope = (o: KubeObject): boolean => (!namespace || o.metadata.namespace === namespace) && match(o)
    const since = Number(url.searchParams.get('resourceVersion') || 0)
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    // Like the real server: the client sees 200 at once, not with the first event.
    res.flushHeaders()
    const write = (t: string, object: KubeObject): void => { res.write(`${JSON.stringify({ type: t, object })}\n`) }
    // Without a resourceVersion, a watch starts with the current state as ADDED events.
    if (since === 0) for (const o of store.list(type.resource, namespace || undefined)) if (inScope(o)) write('ADDED', o)
    const unsubscribe = store.subscribe(since || store.resourceVersion, e => {
      if (e.resource === type.resource && inScope(e.object)) write(e.type, e.object)
    })
    opts.watches.add(res)
    const timeout = Number(url.searchParams.get('timeoutSeconds') || 0)
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined
    timer?.unref()
    res.on('close', () => { unsubscribe(); clearTimeout(timer); opts.watches.delete(res) })
    opts.events.emit('watch', type.resource, namespace || undefined)
  }

  /** PUT and PATCH end here: name checks, update admission, optimistic concurrency. */
  function update (type: ResourceType, namespace: string, name: string, next: KubeObject): KubeObject {
    if (!next || typeof next !== 'object' || typeof next.metadata !== 'object') throw badRequest('the body of the request was in an unknown format')
    if (next.kind !== type.kind || next.apiVersion !== type.apiVersion) throw badRequest(`the API version in the data (${next.apiVersion}) does not match the expected API version (${type.apiVersion}) or kind ${next.kind} is not ${type.kind}`)
    if (next.metadata.name !== name) throw badRequest(`the name of the object (${next.metadata.name}) does not match the name on the URL (${name})`)
    if (type.namespaced) {
      if (next.metadata.namespace && next.metadata.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
      next.metadata.namespace = namespace
    }
    const old = store.get(type.resource, namespace || undefined, name)
    if (!old) throw notFound(type.resource, name, type.group)
    if (next.metadata.resourceVersion && next.metadata.resourceVersion !== old.metadata.resourceVersion) throw conflict(type.resource, name, type.group)
    controllers.admitUpdate(type, old, next)
    return store.replace(type.resource, next)
  }

  function scaleOf (sts: KubeObject): Record<string, unknown> {
    const { name, namespace, uid, resourceVersion, creationTimestamp } = sts.metadata
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
      spec: { replicas: sts.spec?.replicas ?? 1 },
      status: { replicas: sts.status?.replicas ?? 0, selector: selectorString(sts.spec?.selector?.matchLabels) }
    }
  }

  async function scale (req: IncomingMessage, res: ServerResponse, type: ResourceType, ns: string, name: string): Promise<void> {
    const sts = store.get('statefulsets', ns, name)
    if (!sts) throw notFound(type.resource, name, type.group)
    if (req.method === 'GET') return send(res, 200, scaleOf(sts))
    const body = await readBody(req)
    const wanted = req.method === 'PATCH' ? applyPatch(req.headers['content-type'] ?? '', scaleOf(sts), body) : body
    if (req.method !== 'PUT' && req.method !== 'PATCH') throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
    if (!wanted || wanted.kind !== 'Scale') throw badRequest(`the body of the request was in an unknown format`)
    const replicas = wanted.spec?.replicas
    if (!Number.isInteger(replicas) || replicas < 0) throw invalid('Scale', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }], 'autoscaling')
    if (wanted.metadata?.resourceVersion && wanted.metadata.resourceVersion !== sts.metadata.resourceVersion) throw conflict(type.resource, name, type.group)
    const next = structuredClone(sts)
    next.spec.replicas = replicas
    delete next.metadata.resourceVersion
    return send(res, 200, scaleOf(update(type, ns, name, next)))
  }

  function deleteOptions (url: URL, body: any): DeleteOptions {
    const q = url.searchParams
    const out: DeleteOptions = {}
    const policy = body?.propagationPolicy ?? q.get('propagationPolicy') ?? (body?.orphanDependents === true ? 'Orphan' : undefined)
    if (policy) out.propagationPolicy = policy
    const grace = body?.gracePeriodSeconds ?? (q.has('gracePeriodSeconds') ? Number(q.get('gracePeriodSeconds')) : undefined)
    if (grace !== undefined) out.gracePeriodSeconds = grace
    if (body?.preconditions) out.preconditions = body.preconditions
    return out
  }

  async function handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${opts.token}`) throw unauthorized()
    const url = new URL(req.url ?? '/', 'http://fake')
    // A non-resource URL every authenticated client may read (system:public-info-viewer).
    if (url.pathname === '/version' && req.method === 'GET') return send(res, 200, VERSION)
    const r = requestInfo(req.method ?? 'GET', url)
    if (r) opts.requests.push({ ...r.info })
    if (!r?.type) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource')
    const { type, info } = r
    const { namespace: ns, name, subresource } = info
    const badField = unsupportedField(type.resource, url.searchParams.get('fieldSelector'))
    if (badField !== undefined) throw badRequest(`field label not supported: ${badField}`)
    const nsArg = type.namespaced ? ns : undefined

    if (subresource) {
      if (type.resource === 'statefulsets' && subresource === 'scale') return scale(req, res, type, ns, name)
      if (type.resource === 'pods' && subresource === 'log' && req.method === 'GET') return serveLogs(store, controllers.kubelet, ns, name, url, req, res)
      if (type.resource === 'pods' && subresource === 'eviction' && req.method === 'POST') {
        await readBody(req)
        if (!store.get('pods', ns, name)) throw notFound('pods', name)
        await controllers.remove('pods', ns, name)
        return send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 })
      }
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource')
    }
    switch (info.verb) {
      case 'watch':
        // A list or watch in a namespace that does not exist is empty, not 404 (as on a real server).
        return watch(type, type.namespaced ? ns : '', url, res)
      case 'list': {
        const match = matcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
        const items = store.list(type.resource, nsArg).filter(match)
        return send(res, 200, { kind: `${type.kind}List`, apiVersion: type.apiVersion, metadata: { resourceVersion: String(store.resourceVersion) }, items })
      }
      case 'get': {
        const o = store.get(type.resource, nsArg, name)
        if (!o) throw notFound(type.resource, name, type.group)
        return send(res, 200, o)
      }
      case 'create': {
        if (name) throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
        const body = await readBody(req) as KubeObject | undefined
        if (!body || typeof body !== 'object') throw badRequest('the body of the request was in an unknown format')
        if (body.kind !== type.kind || body.apiVersion !== type.apiVersion) throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${type.apiVersion}) or kind ${body.kind} is not ${type.kind}`)
        body.metadata ??= { name: '' }
        if (!body.metadata.name && typeof body.metadata.generateName === 'string') body.metadata.name = `${body.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`
        if (type.namespaced) {
          if (body.metadata.namespace && body.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
          body.metadata.namespace = ns
        }
        validate(type, body)
        await controllers.admitCreate(type, body)
        return send(res, 201, store.create(type.resource, body))
      }
      case 'update':
        return send(res, 200, update(type, ns, name, await readBody(req)))
      case 'patch': {
        const current = store.get(type.resource, nsArg, name)
        if (!current) throw notFound(type.resource, name, type.group)
        const body = await readBody(req)
        const patched = applyPatch(req.headers['content-type'] ?? '', current, body)
        // A patch that does not name a resourceVersion applies to the current one.
        if (!body?.metadata?.resourceVersion && !Array.isArray(body)) patched.metadata.resourceVersion = current.metadata.resourceVersion
        if (Array.isArray(body) && !body.some((op: any) => typeof op.path === 'string' && op.path.startsWith('/metadata/resourceVersion'))) patched.metadata.resourceVersion = current.metadata.resourceVersion
        return send(res, 200, update(type, ns, name, patched))
      }
      case 'delete': {
        const body = await readBody(req)
        return send(res, 200, await controllers.remove(type.resource, nsArg, name, deleteOptions(url, body)))
      }
      case 'deletecollection': {
        const body = await readBody(req)
        const match = matcher(url.searchParams.get('labelSelector'), url.searchParams.get('fieldSelector'))
        const items: KubeObject[] = []
        for (const o of store.list(type.resource, nsArg).filter(match)) items.push(await controllers.remove(type.resource, nsArg, o.metadata.name, deleteOptions(url, body)))
        return send(res, 200, { kind: `${type.kind}List`, apiVersion: type.apiVersion, metadata: { resourceVersion: String(store.resourceVersion) }, items })
      }
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
