// The `metrics` decorator: a prom-client Registry of our own (never the
// global one, so two apps in one process, as in tests, do not collide).
// Counters move with events (HTTP responses, engine events); gauges that
// describe the database (queue depth, instances by state and health) are
// read at scrape time, so they are never stale and cost nothing between
// scrapes. Register it early (right after db): its HTTP hook then covers
// every route, and it attaches to the engine on ready, when it exists.
import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { countInstancesBy } from '../../db/instances.ts'

export interface Metrics {
  readonly registry: Registry
  /** A health probe's duration and outcome. */
  observeHealthCheck (ms: number, ok: boolean): void
  /** How long after its due time a health check started, in ms. */
  observeHealthCheckLateness (ms: number): void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

export default fp(async app => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'toygres_' })

  const http = new Histogram({
    name: 'toygres_http_request_duration_seconds',
    help: 'HTTP request duration, by route template, method and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: SECONDS,
    registers: [registry]
  })
  const started = new Counter({
    name: 'toygres_operations_started_total', help: 'Operations started (first run), by orchestration', labelNames: ['orchestration'] as const, registers: [registry]
  })
  const finished = new Counter({
    name: 'toygres_operations_finished_total',
    help: 'Operations finished, by orchestration and outcome (succeeded, failed, cancelled)',
    labelNames: ['orchestration', 'outcome'] as const,
    registers: [registry]
  })
  const stepDuration = new Histogram({
    name: 'toygres_step_duration_seconds',
    help: 'Step duration (the successful or last failed attempt), by step and outcome',
    labelNames: ['step', 'outcome'] as const,
    buckets: SECONDS,
    registers: [registry]
  })
  const healthCheck = new Histogram({
    name: 'toygres_health_check_duration_seconds',
    help: 'Health probe duration (connect + SELECT 1), by outcome (ok, failed)',
    labelNames: ['outcome'] as const,
    buckets: SECONDS,
    registers: [registry]
  })

  // eslint-disable-next-line no-new
  new Gauge({
    name: 'toygres_instances',
    help: 'Instances by state and health, read at scrape time',
    labelNames: ['state', 'health'] as const,
    registers: [registry],
    async collect () {
      this.reset()
      if (!app.hasDecorator('db')) return
      for (const r of await countInstancesBy(app.db)) this.set({ state: r.state, health: r.health }, r.count)
    }
  })
  const healthLateness = new Histogram({
    name: 'toygres_health_check_lateness_seconds',
    help: 'How long after its due time a health check started (database clock): a growing tail means too few worker slots or workers',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry]
  })
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'toygres_operations',
    help: 'Live operations per orchestration, read at scrape time: pending (not started), due (a timer passed and no run holds it yet: the backlog), waiting (asleep until a timer), running (a run holds it)',
    labelNames: ['orchestration', 'state'] as const,
    registers: [registry],
    async collect () {
      this.reset()
      if (!app.hasDecorator('engine')) return
      for (const r of await app.engine.countLive()) {
        for (const state of ['pending', 'due', 'waiting', 'running'] as const) this.set({ orchestration: r.name, state }, r[state])
      }
    }
  })

  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw URL: bounded label values.
    const route = request.routeOptions.url ?? 'unmatched'
    http.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000)
  })

  app.addHook('onReady', async () => {
    if (!app.hasDecorator('engine')) return
    app.engine.on('operation:started', (e: { name: string }) => started.inc({ orchestration: e.name }))
    app.engine.on('operation:finished', (e: { name: string, status: string }) => finished.inc({ orchestration: e.name, outcome: e.status }))
    app.engine.on('step:finished', (e: { step: string, status: string, durationMs: number }) => {
      stepDuration.observe({ step: e.step, outcome: e.status }, e.durationMs / 1000)
    })
  })

  app.decorate('metrics', {
    registry,
    observeHealthCheck: (ms: number, ok: boolean) => healthCheck.observe({ outcome: ok ? 'ok' : 'failed' }, ms / 1000),
    observeHealthCheckLateness: (ms: number) => healthLateness.observe(ms / 1000)
  })
}, { name: 'metrics' })
