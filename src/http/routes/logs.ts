// GET /instances/{name}/logs: the server's log (locally its log file; on
// Kubernetes the pod's log through the API), the last `tail` lines, then new
// ones while `follow`. Plain text, or NDJSON with Accept: application/x-ndjson.
// Lines are redacted of passwords (src/instances/logs.ts).
import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { findInstanceByName } from '../../db/instances.ts'
import { ToygresError } from '../../errors.ts'
import { instanceLogs } from '../../instances/logs.ts'
import { NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'

const logs: FastifyPluginAsyncTypebox = async app => {
  app.get('/instances/:name/logs', {
    schema: {
      tags: ['instances'],
      operationId: 'getInstanceLogs',
      summary: 'The server\'s log: the last lines, and new ones while following',
      description: 'text/plain by default, one line per line; `Accept: application/x-ndjson` gives one JSON object per line ({"line": "..."}). With follow=true the response stays open and lines arrive as the server writes them, until you disconnect or the instance goes. Passwords never pass: statements that carry one are not logged, and lines are redacted anyway.',
      params: NameParams,
      querystring: Type.Object({
        tail: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 200, description: 'Lines from the end' })),
        follow: Type.Optional(Type.Boolean({ default: false }))
      }, { additionalProperties: false }),
      produces: ['text/plain', 'application/x-ndjson'],
      response: {
        200: { description: 'Log lines', content: { 'text/plain': { schema: Type.String() }, 'application/x-ndjson': { schema: Type.String() } } },
        ...problems(400, 401, 404, 409, 503)
      }
    }
  }, async (request, reply) => {
    const row = await findInstanceByName(app.db, request.params.name)
    if (!row) throw new ToygresError('not-found', `no instance named "${request.params.name}"`)
    const ndjson = /application\/x-ndjson/.test(request.headers.accept ?? '')
    const closed = new AbortController()
    request.raw.on('close', () => closed.abort())
    const lines = instanceLogs({ db: app.db, provisioner: app.provisioner, secrets: app.secrets }, row, { tail: request.query.tail ?? 200, follow: request.query.follow ?? false }, closed.signal)
    // The first line (or the end) before any header: a platform that cannot be read is still a problem response.
    let first: IteratorResult<string>
    try {
      first = await lines.next()
    } catch (err) {
      if (err instanceof ToygresError || (err as { retryable?: boolean }).retryable === false) {
        throw new ToygresError('conflict', `the log of "${row.name}" cannot be read now: ${(err as Error).message}`, { cause: err })
      }
      throw new ToygresError('unavailable', `the log of "${row.name}" cannot be read: the ${app.provisioner.kind === 'kubernetes' ? 'Kubernetes API' : 'server'} did not answer (${(err as Error).message})`, { cause: err })
    }
    async function * body (): AsyncGenerator<string> {
      if (first.done) return
      yield ndjson ? `${JSON.stringify({ line: first.value })}\n` : `${first.value}\n`
      for await (const line of lines) yield ndjson ? `${JSON.stringify({ line })}\n` : `${line}\n`
    }
    reply.header('cache-control', 'no-cache').type(ndjson ? 'application/x-ndjson' : 'text/plain; charset=utf-8')
    // A stream of lines; the schema documents them as text.
    return reply.send(Readable.from(body()) as unknown as string)
  })
}

export default logs
