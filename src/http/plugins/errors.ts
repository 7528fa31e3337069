// One handler turns every failure into problem+json. Client mistakes keep their
// 4xx and say which field; anything else is a 500 that reveals nothing.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { catalogue, problemType, ToygresError, type ErrorCode, type FieldError } from '../../errors.ts'

const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad-request'
}

function fieldErrors (err: FastifyError): FieldError[] {
  return (err.validation ?? []).map(v => {
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.')
    const missing = v.keyword === 'required' ? String((v.params as { missingProperty?: string }).missingProperty ?? '') : ''
    const extra = v.keyword === 'additionalProperties' ? String((v.params as { additionalProperty?: string }).additionalProperty ?? '') : ''
    const field = [err.validationContext, path, missing || extra].filter(Boolean).join('.')
    const message = extra ? 'is not a known field' : (v.message ?? 'is invalid')
    return { field, message }
  })
}

export function sendProblem (reply: FastifyReply, code: ErrorCode, detail: string, errors?: FieldError[]): FastifyReply {
  const { status, title } = catalogue[code]
  return reply.code(status).type('application/problem+json').send({
    type: problemType(code), title, status, detail, instance: reply.request.url,
    ...(errors?.length ? { errors } : {})
  })
}

function classify (err: FastifyError): { code: ErrorCode, detail: string, errors?: FieldError[] } {
  if (err instanceof ToygresError) return { code: err.code, detail: err.message, ...(err.errors ? { errors: err.errors } : {}) }
  if (err.validation) {
    const errors = fieldErrors(err)
    return { code: 'validation-failed', detail: errors.map(e => `${e.field} ${e.message}`).join('; '), errors }
  }
  const known = err.code ? fastifyCodes[err.code] : undefined
  if (known) return { code: known, detail: err.message }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    const code = (Object.keys(catalogue) as ErrorCode[]).find(c => catalogue[c].status === err.statusCode) ?? 'bad-request'
    return { code, detail: err.message }
  }
  return { code: 'internal-error', detail: 'The server failed to handle this request; it has been logged.' }
}

export default fp(async app => {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = classify(err)
    if (catalogue[problem.code].status >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: problem.code, detail: problem.detail }, 'request rejected')
    return sendProblem(reply, problem.code, problem.detail, problem.errors)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 'not-found', `no route for ${request.method} ${request.url.split('?')[0]}`))
}, { name: 'errors' })
