// /instances: validate, then hand over to the instance service (one
// transaction: metadata + operation). Routes never provision anything.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Counter } from 'prom-client'
import { Type } from 'typebox'
import { findInstanceByName, listInstances } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import type { CreateRequest } from '../../instances/service.ts'
import { CreateInstanceRequest, DeleteQuery, ListQuery, NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'
import { connectionUri, instanceView, loadOperationView } from '../views.ts'

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'Retries with the same key and body get the original response' }))
})

const RETRY_AFTER_SECONDS = '2'

const cursor = {
  encode: (name: string): string => Buffer.from(JSON.stringify({ after: name })).toString('base64url'),
  decode (value: string): string {
    try {
      const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { after?: unknown }
      if (typeof parsed.after === 'string') return parsed.after
    } catch {}
    throw new ToygresError('validation-failed', 'querystring.cursor is not a cursor this API returned', { errors: [{ field: 'querystring.cursor', message: 'is not a valid cursor' }] })
  }
}

const instances: FastifyPluginAsyncTypebox = async app => {
  const status = app.statusCache

  app.post('/instances', {
    schema: {
      tags: ['instances'],
      operationId: 'createInstance',
      summary: 'Create a PostgreSQL instance',
      description: 'Starts the create-instance operation and answers at once. Poll GET /instances/{name} until `state` is `running` (or `failed`).',
      headers: IdempotencyHeaders,
      body: CreateInstanceRequest,
      response: { 202: Type.Ref('CreatedInstance'), ...problems(400, 401, 409, 413, 415, 422, 503) }
    }
  }, async (request, reply) => {
    // The validator applied the schema's defaults (useDefaults): every optional field with a default is set.
    const result = await app.instances.create(request.body as CreateRequest, request.headers['idempotency-key'])
    status.invalidate(result.instance.name)
    const operation = await loadOperationView(app.engine, app.db, result.instance.operation_id)
    reply.code(202).header('location', `/instances/${result.instance.name}`).header('retry-after', RETRY_AFTER_SECONDS)
    const secret = result.generatedPassword ?? request.body.password
    return {
      ...(result.generatedPassword ? { password: result.generatedPassword } : {}),
      connection_uri: secret ? connectionUri(result.instance.ip_connection_string ?? result.plannedConnectionString, secret) : null,
      ...instanceView(result.instance, operation, app.controlPlane.authority.certificatePem)
    }
  })

  app.get('/instances/:name', {
    schema: {
      tags: ['instances'],
      operationId: 'getInstance',
      summary: 'An instance: state, health, connection info and the current operation\'s steps',
      params: NameParams,
      response: { 200: Type.Ref('Instance'), ...problems(400, 401, 404) }
    }
  }, async request => {
    const view = await status.get(request.params.name)
    if (!view) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    return view
  })

  app.get('/instances', {
    schema: {
      tags: ['instances'],
      operationId: 'listInstances',
      summary: 'List instances, by name, a page at a time',
      querystring: ListQuery,
      response: { 200: Type.Ref('InstanceList'), ...problems(400, 401) }
    }
  }, async request => {
    const limit = request.query.limit ?? 20
    const after = request.query.cursor === undefined ? undefined : cursor.decode(request.query.cursor)
    const rows = await listInstances(app.db, { limit: limit + 1, after, state: request.query.state, labels: parseSelector(request.query.label) })
    const page = rows.slice(0, limit)
    return {
      // The list omits step timelines: GET one instance for those.
      items: page.map(row => instanceView(row, null)),
      next_cursor: rows.length > limit ? cursor.encode(page[page.length - 1]!.name) : null
    }
  })

  app.get('/instances/:name/ca-certificate', {
    schema: {
      tags: ['instances'],
      operationId: 'getInstanceCaCertificate',
      summary: 'The CA certificate (PEM) that verifies the instance\'s server certificate',
      description: 'Save it and connect with `sslmode=verify-ca sslrootcert=<file>` (or `verify-full` through a name the certificate carries).',
      params: NameParams,
      produces: ['application/x-pem-file'],
      response: { 200: { description: 'PEM', content: { 'application/x-pem-file': { schema: Type.String() } } }, ...problems(400, 401, 404) }
    }
  }, async (request, reply) => {
    if (!(await findInstanceByName(app.db, request.params.name))) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    return reply.type('application/x-pem-file')
      .header('content-disposition', `attachment; filename="${request.params.name}-ca.crt"`)
      .send(app.controlPlane.authority.certificatePem)
  })

  app.delete('/instances/:name', {
    schema: {
      tags: ['instances'],
      operationId: 'deleteInstance',
      summary: 'Delete an instance and every resource it has',
      description: 'Cancels what is pending or running on the instance, then removes everything. Answers 202; poll GET /instances/{name} until it is 404. Repeating it returns the delete already under way; after `delete_failed` it starts a new one. Refused (409) while deletion_protection is on. `?force=true` forgets the instance at once without removing its resources (for a platform that cannot be reached), recording what may remain, and answers 200.',
      params: NameParams,
      querystring: DeleteQuery,
      response: { 200: Type.Ref('ForgottenInstance'), 202: Type.Ref('Instance'), ...problems(400, 401, 404, 409) }
    }
  }, async (request, reply) => {
    if (request.query.force) {
      const forgotten = await app.instances.forget(request.params.name)
      status.invalidate(request.params.name)
      request.log.warn({ instance: forgotten.name, mayRemain: forgotten.may_remain }, 'instance forgotten (forced delete): its resources may remain')
      return reply.code(200).send(forgotten)
    }
    const { instance } = await app.instances.delete(request.params.name)
    status.invalidate(instance.name)
    reply.code(202).header('location', `/instances/${instance.name}`).header('retry-after', RETRY_AFTER_SECONDS)
    return instanceView(instance, await loadOperationView(app.engine, app.db, instance.operation_id))
  })
}

/** `env=prod,team=a` → { env: 'prod', team: 'a' }; a term without '=' is a 400 naming it. */
function parseSelector (selector: string | undefined): Record<string, string> | undefined {
  if (!selector) return undefined
  const out: Record<string, string> = {}
  for (const term of selector.split(',').map(t => t.trim()).filter(Boolean)) {
    const eq = term.indexOf('=')
    if (eq <= 0) throw new ToygresError('validation-failed', `querystring.label has "${term}", which is not key=value`, { errors: [{ field: 'querystring.label', message: `"${term}" is not key=value (e.g. env=prod,team=a)` }] })
    out[term.slice(0, eq)] = term.slice(eq + 1)
  }
  return out
}

export default instances
