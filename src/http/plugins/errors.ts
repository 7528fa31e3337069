// One handler turns every failure into problem+json. Client mistakes keep their
// 4xx and say which field; anything else is a 500 that reveals nothing.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import { isDatabaseUnavailable } from '../../db/unavailable.ts'
import { catalogue, problemType, ToygresError, type ErrorCode, type FieldError } from '../../errors.ts'
import { fieldErrors } from '../validation.ts'

// How long a client should wait before retrying when a dependency is down.
export const RETRY_AFTER_SECONDS = 5

const KIB = 1024

export function sendProblem (reply: FastifyReply, code: ErrorCode, detail: string, errors?: FieldError[]): FastifyReply {
  const { status, title } = catalogue[code]
  return reply.code(status).type('application/problem+json').send({
    type: problemType(code), title, status, detail, instance: reply.request.url,
    ...(errors?.length ? { errors } : {})
  })
}

interface Problem { code: ErrorCode, detail: string, errors?: FieldError[] }

/**
 * The JSON body parser: secure-json-parse (Fastify's own), refusing
 * prototype-poisoning keys, with errors that say what is wrong.
 */
export function parseJsonBody (_request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8')
  if (text.length === 0) return done(new ToygresError('bad-request', 'Content-Type is application/json but the body is empty: send a JSON object, or no Content-Type'))
  try {
    done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }))
  } catch (err) {
    const reason = (err as Error).message
    done(new ToygresError('bad-request', /forbidden prototype property/.test(reason)
      ? 'the body has a "__proto__" or "constructor.prototype" key, which is refused (it could change how objects behave); rename or remove it'
      : `the body is not valid JSON: ${reason}`))
  }
}

/** Fastify's own client errors, said plainly. */
function fastifyProblem (err: FastifyError, request: FastifyRequest): Problem | undefined {
  const type = request.headers['content-type']
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        code: 'unsupported-media-type',
        detail: type
          ? `the body is ${type.split(';')[0]}; this API takes JSON: send Content-Type: application/json`
          : 'the request has a body but no Content-Type: send it as JSON with Content-Type: application/json'
      }
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return { code: 'payload-too-large', detail: `the body is larger than ${request.routeOptions.bodyLimit / KIB} KiB` }
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return { code: 'bad-request', detail: 'Content-Type is application/json but the body is empty: send a JSON object, or no Content-Type' }
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return { code: 'bad-request', detail: 'the Content-Length header does not match the body' }
  }
  return undefined
}

function classify (err: FastifyError, request: FastifyRequest): Problem {
  if (err instanceof ToygresError) return { code: err.code, detail: err.message, ...(err.errors ? { errors: err.errors } : {}) }
  if (err.validation) {
    const errors = fieldErrors(err.validation, err.validationContext)
    return { code: 'validation-failed', detail: errors.map(e => `${e.field} ${e.message}`).join('; '), errors }
  }
  const known = fastifyProblem(err, request)
  if (known) return known
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    const code = (Object.keys(catalogue) as ErrorCode[]).find(c => catalogue[c].status === err.statusCode) ?? 'bad-request'
    return { code, detail: err.message }
  }
  if (isDatabaseUnavailable(err)) return { code: 'unavailable', detail: 'the control plane\'s database is unavailable; retry shortly' }
  return { code: 'internal-error', detail: 'The server failed to handle this request; it has been logged.' }
}

export default fp(async app => {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = classify(err, request)
    if (problem.code === 'unavailable') {
      // The outage is logged once where it is noticed (the database plugin), not per request.
      reply.header('retry-after', String(RETRY_AFTER_SECONDS))
      request.log.debug({ err }, 'request failed: a dependency is unavailable')
    } else if (catalogue[problem.code].status >= 500) {
      request.log.error({ err }, 'request failed')
    } else {
      request.log.info({ code: problem.code, detail: problem.detail }, 'request rejected')
    }
    return sendProblem(reply, problem.code, problem.detail, problem.errors)
  })
  // A known path with another method is 405 with Allow (RFC 9110 15.5.6), not 404.
  const routes: Array<{ pattern: RegExp, methods: Set<string> }> = []
  app.addHook('onRoute', route => {
    const pattern = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replace(/\*/g, '.*')}/?$`)
    const existing = routes.find(r => r.pattern.source === pattern.source)
    const methods = [route.method].flat()
    if (existing) for (const m of methods) existing.methods.add(m)
    else routes.push({ pattern, methods: new Set(methods) })
  })
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!
    const allowed = new Set(routes.filter(r => r.pattern.test(path)).flatMap(r => [...r.methods]))
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const allow = [...allowed].sort().join(', ')
      reply.header('allow', allow)
      return sendProblem(reply, 'method-not-allowed', `${request.method} is not allowed on ${path}; allowed: ${allow}`)
    }
    return sendProblem(reply, 'not-found', `no route for ${request.method} ${path}`)
  })
}, { name: 'errors' })

/**
 * Errors Node's HTTP parser raises before a request exists (malformed
 * request line or headers, headers over the size limit, a request that took
 * too long to arrive): answered as problem+json like every other error,
 * then the connection is closed (https://nodejs.org/api/http.html#event-clienterror).
 */
export function clientErrorHandler (this: { log: { debug (o: object, m: string): void } }, err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [code, detail]: [ErrorCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ['request-timeout', 'the request did not arrive in time; send it whole, promptly']
      : err.code === 'HPE_HEADER_OVERFLOW' ? ['headers-too-large', 'the request headers are larger than the server accepts (16 KiB)']
        : ['bad-request', 'the request is not valid HTTP/1.1']
  const { status, title } = catalogue[code]
  const body = JSON.stringify({ type: problemType(code), title, status, detail })
  this.log.debug({ err }, 'client error')
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}
