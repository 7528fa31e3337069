// /instances: validate, then hand over to the instance service (one
// transaction: metadata + operation). Routes never provision anything.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Counter } from 'prom-client'
import { Type } from 'typebox'
import { findInstanceByName, listInstances } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import type { CreateRequest } from '../../instances/service.ts'
import { CreateInstanceRequest, ListQuery, NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'
import { createMicroCache } from '../micro-cache.ts'
import { instanceView, loadOperationView } from '../views.ts'

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
  // How stale a polled status may be when another process changed it (TOYGRES_STATUS_CACHE_MS).
  const status = createMicroCache(app.config.statusCacheMs, async (name: string) => {
    const row = await findInstanceByName(app.db, name)
    return row ? instanceView(row, await loadOperationView(app.engine, app.db, row.operation_id)) : null
  })
  if (app.hasDecorator('metrics')) {
    // eslint-disable-next-line no-new
    new Counter({
      name: 'toygres_status_cache_gets_total',
      help: 'GET /instances/{name} lookups, by result: hit (a finished load reused), joined (a load in flight shared), miss (loaded)',
      labelNames: ['result'] as const,
      registers: [app.metrics.registry],
      collect () {
        this.reset()
        this.inc({ result: 'hit' }, status.stats.hits)
        this.inc({ result: 'joined' }, status.stats.joined)
        this.inc({ result: 'miss' }, status.stats.misses)
      }
    })
  }

  app.post('/instances', {
    schema: {
      tags: ['instances'],
      operationId: 'createInstance',
      summary: 'Create a PostgreSQL instance',
      description: 'Starts the create-instance operation and answers at once. Poll GET /instances/{name} until `state` is `running` (or `failed`).',
      headers: IdempotencyHeaders,
      body: CreateInstanceRequest,
      response: { 202: Type.Ref('CreatedInstance'), ...problems(400, 401, 409, 413, 415, 422) }
    }
  }, async (request, reply) => {
    // The validator applied the schema's defaults (useDefaults): every optional field with a default is set.
    const result = await app.instances.create(request.body as CreateRequest, request.headers['idempotency-key'])
    status.invalidate(result.instance.name)
    const operation = await loadOperationView(app.engine, app.db, result.instance.operation_id)
    reply.code(202).header('location', `/instances/${result.instance.name}`).header('retry-after', RETRY_AFTER_SECONDS)
    return { ...instanceView(result.instance, operation), ...(result.generatedPassword ? { password: result.generatedPassword } : {}) }
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
    const rows = await listInstances(app.db, { limit: limit + 1, after, state: request.query.state })
    const page = rows.slice(0, limit)
    return {
      // The list omits step timelines: GET one instance for those.
      items: page.map(row => instanceView(row, null)),
      next_cursor: rows.length > limit ? cursor.encode(page[page.length - 1]!.name) : null
    }
  })

  app.delete('/instances/:name', {
    schema: {
      tags: ['instances'],
      operationId: 'deleteInstance',
      summary: 'Delete an instance and every resource it has',
      description: 'Cancels a create still running, then removes everything. Answers 202; poll GET /instances/{name} until it is 404. Repeating it returns the delete already under way.',
      params: NameParams,
      response: { 202: Type.Ref('Instance'), ...problems(400, 401, 404) }
    }
  }, async (request, reply) => {
    const { instance } = await app.instances.delete(request.params.name)
    status.invalidate(instance.name)
    reply.code(202).header('location', `/instances/${instance.name}`).header('retry-after', RETRY_AFTER_SECONDS)
    return instanceView(instance, await loadOperationView(app.engine, app.db, instance.operation_id))
  })
}

export default instances
