// GET /metrics: Prometheus text exposition from the app's own registry.
// Behind the API token like every route, unless TOYGRES_METRICS_PUBLIC (the
// auth plugin decides). Without the metrics plugin (OpenAPI generation) the
// route still exists, so the document lists it.
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { ToygresError } from '../../errors.ts'
import { problems } from '../schemas/problem.ts'

const Exposition = Type.String({
  description: 'Prometheus text exposition format 0.0.4',
  examples: ['# HELP toygres_instances Instances by state and health\n# TYPE toygres_instances gauge\ntoygres_instances{state="running",health="healthy"} 3\n']
})

const metrics: FastifyPluginAsync = async app => {
  app.get('/metrics', {
    schema: {
      tags: ['health'],
      operationId: 'getMetrics',
      summary: 'Metrics in Prometheus text format',
      description: 'HTTP request durations, operations started/finished, step durations, queue depth, instances by state and health, health-check durations.',
      produces: ['text/plain'],
      response: { 200: { description: 'Prometheus text exposition', content: { 'text/plain': { schema: Exposition } } }, ...problems(401, 503) }
    }
  }, async (_request, reply) => {
    if (!app.hasDecorator('metrics')) throw new ToygresError('unavailable', 'metrics are not enabled in this process')
    const body = await app.metrics.registry.metrics()
    return reply.type(app.metrics.registry.contentType).send(body)
  })
}

export default metrics
