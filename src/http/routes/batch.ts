// Bulk create and delete. Each item gets its own result and its own
// transaction, so one bad item spoils nothing: a create is 202 with its
// operation, 409 for a taken name, 400/422 naming the field; a delete is 202
// (or 404, 409). batch-delete selects by names or by a label selector, and
// dry_run lists what it would delete without deleting anything.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { isCidr } from '../../cidr.ts'
import { listInstances } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { CreateInstanceRequest, InstanceName } from '../../instances/requests.ts'
import type { CreateRequest } from '../../instances/service.ts'
import { catalogue, type ErrorCode } from '../../errors.ts'
import { problemType } from '../../errors.ts'
import { bodyValidator } from '../validation.ts'
import { problems } from '../schemas/problem.ts'
import { instanceView, loadOperationView } from '../views.ts'

const MAX_ITEMS = 100
const validateItem = bodyValidator(CreateInstanceRequest, { cidr: isCidr })

const ItemResult = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  name: Type.Union([Type.String(), Type.Null()]),
  status: Type.Integer({ description: 'What this item alone would have answered: 202, 400, 404, 409, 422…' }),
  instance: Type.Optional(Type.Ref('Instance')),
  password: Type.Optional(Type.String({ description: 'A create\'s generated password, shown this once' })),
  problem: Type.Optional(Type.Ref('Problem'))
})

/** A ToygresError as the problem it would have answered alone. */
function problemOf (err: unknown, instance: string): { status: number, problem: Record<string, unknown> } {
  const code: ErrorCode = err instanceof ToygresError ? err.code : 'internal-error'
  const { status, title } = catalogue[code]
  const detail = err instanceof ToygresError ? err.message : 'The server failed to handle this item; it has been logged.'
  return { status, problem: { type: problemType(code), title, status, detail, instance, ...(err instanceof ToygresError && err.errors ? { errors: err.errors } : {}) } }
}

const batch: FastifyPluginAsyncTypebox = async app => {
  app.post('/instances/batch', {
    schema: {
      tags: ['instances'],
      operationId: 'createInstances',
      summary: `Create up to ${MAX_ITEMS} instances, each on its own`,
      description: 'Each item is a CreateInstanceInput and gets its own result, in order, and its own transaction: one bad item spoils nothing. Answers 200 with a result per item.',
      body: Type.Object({ items: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_ITEMS, description: 'CreateInstanceInput bodies' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(ItemResult) }), ...problems(400, 401, 413, 415) }
    }
  }, async request => {
    const results = []
    for (const [index, item] of request.body.items.entries()) {
      const at = `/instances/batch#${index}`
      const name = typeof (item as { name?: unknown })?.name === 'string' ? (item as { name: string }).name : null
      const errors = validateItem(item, `body.items.${index}`)
      if (errors.length > 0) {
        results.push({ index, name, ...problemOf(new ToygresError('validation-failed', errors.map(e => `${e.field} ${e.message}`).join('; '), { errors }), at) })
        continue
      }
      try {
        const created = await app.instances.create(item as CreateRequest)
        app.statusCache.invalidate(created.instance.name)
        const operation = await loadOperationView(app.engine, app.db, created.instance.operation_id)
        results.push({ index, name, status: 202, instance: instanceView(created.instance, operation), ...(created.generatedPassword ? { password: created.generatedPassword } : {}) })
      } catch (err) {
        if (!(err instanceof ToygresError)) request.log.error({ err, index }, 'batch item failed')
        results.push({ index, name, ...problemOf(err, at) })
      }
    }
    return { items: results }
  })

  app.post('/instances/batch-delete', {
    schema: {
      tags: ['instances'],
      operationId: 'deleteInstances',
      summary: 'Delete instances by name or by label selector',
      description: 'Give `names`, or `label` (a selector: key=value pairs, comma-separated, all must match). With `dry_run` nothing is deleted: the result lists what would be. Each delete is its own transaction and result.',
      body: Type.Object({
        names: Type.Optional(Type.Array(InstanceName, { minItems: 1, maxItems: MAX_ITEMS, uniqueItems: true })),
        label: Type.Optional(Type.String({ minLength: 3, maxLength: 2000, pattern: '^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$', description: 'e.g. env=test,team=a' })),
        dry_run: Type.Optional(Type.Boolean({ default: false }))
      }, { additionalProperties: false, minProperties: 1 }),
      response: {
        200: Type.Object({ dry_run: Type.Boolean(), items: Type.Array(ItemResult) }),
        ...problems(400, 401, 415)
      }
    }
  }, async request => {
    const { names, label, dry_run: dryRun = false } = request.body
    if ((names === undefined) === (label === undefined)) {
      throw new ToygresError('validation-failed', 'give either names or label', { errors: [{ field: 'body', message: 'must have either names or label, not both' }] })
    }
    const targets = names ?? (await listInstances(app.db, { limit: MAX_ITEMS, labels: Object.fromEntries(label!.split(',').map(t => t.split('=') as [string, string])) })).map(r => r.name)
    const results = []
    for (const [index, name] of targets.entries()) {
      const at = `/instances/${name}`
      try {
        if (dryRun) {
          const view = await app.statusCache.get(name)
          if (!view) throw new ToygresError('not-found', `no instance named "${name}"`)
          results.push({ index, name, status: 200, instance: view })
          continue
        }
        const { instance } = await app.instances.delete(name)
        app.statusCache.invalidate(name)
        results.push({ index, name, status: 202, instance: instanceView(instance, await loadOperationView(app.engine, app.db, instance.operation_id)) })
      } catch (err) {
        if (!(err instanceof ToygresError)) request.log.error({ err, name }, 'batch-delete item failed')
        results.push({ index, name, ...problemOf(err, at) })
      }
    }
    return { dry_run: dryRun, items: results }
  })
}

export default batch
