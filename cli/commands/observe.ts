// Watching an instance: wait (for running or gone), events, logs, health, ops.
import { type Command, Option } from 'commander'
import { unwrap, type StreamEvent } from '../../client/index.ts'
import type { Action, Ctx } from '../context.ts'
import { CliError, EXIT } from '../errors.ts'
import { follow } from '../follow.ts'
import { onInterrupt } from '../operations.ts'
import { positiveInt } from '../options.ts'
import { age, details, duration, paint, printJson, shortName, table } from '../output.ts'
import { makeProgress } from '../progress.ts'
import { awaitState, findInstance, type Target } from '../waiting.ts'

export function registerObserve (program: Command, action: Action): void {
  program.command('wait')
    .description('Wait until an instance is running, or gone (exit 1 when it cannot get there, 4 on timeout)')
    .argument('<name>')
    .addOption(new Option('--for <condition>', 'running or gone').choices(['running', 'gone']).makeOptionMandatory())
    .option('--timeout <seconds>', 'give up after this long (exit 4)', positiveInt, 300)
    .action(action(wait))

  program.command('events')
    .description('Follow an instance\'s events: state and health changes, each step of its operations (NDJSON with -o json)')
    .argument('<name>')
    .option('--since <event-id>', 'start after this event (default: from the instance\'s first event)')
    .action(action(events))

  program.command('logs')
    .description('The server\'s log (NDJSON with -o json)')
    .argument('<name>')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <lines>', 'lines from the end', (v: string) => v === '0' ? 0 : positiveInt(v), 200)
    .action(action(logs))

  program.command('health')
    .description('An instance\'s health and its recent checks')
    .argument('<name>')
    .option('--limit <checks>', 'how many recent checks', positiveInt, 10)
    .action(action(health))

  program.command('ops')
    .description('An instance\'s operations, newest first')
    .argument('<name>')
    .option('--limit <operations>', 'how many', positiveInt, 20)
    .action(action(ops))
}

async function wait (ctx: Ctx, name: string, opts: { for: Target, timeout: number }): Promise<number> {
  const progress = makeProgress(ctx, `waiting for ${name} to be ${opts.for}`)
  const stopWaiting = onInterrupt(ctx, progress, `stopped waiting for ${name}`)
  let result
  try {
    result = await awaitState(ctx, name, opts.for, progress, opts.timeout * 1000)
  } finally {
    stopWaiting()
    progress.done()
  }
  if (!('done' in result)) {
    const now = await findInstance(ctx, name).catch(() => null)
    const where = now ? ` (it is ${now.state}${now.waiting_for ? `, waiting for ${now.waiting_for}` : ''})` : ''
    throw new CliError(`timed out after ${opts.timeout}s waiting for ${name} to be ${opts.for}${where}`, EXIT.timeout)
  }
  const outcome = result.done
  if (!outcome.reached) throw new CliError(`${name} will not be ${opts.for}: it is ${outcome.state}: ${outcome.reason}`, EXIT.failed)
  if (ctx.json) return printJson(ctx, opts.for === 'gone' ? { name, gone: true } : await findInstance(ctx, name)), 0
  ctx.out(`${name} is ${opts.for}`)
  return 0
}

async function events (ctx: Ctx, name: string, opts: { since?: string }): Promise<number> {
  await follow<true>(ctx, name, {
    since: opts.since,
    checkEveryMs: 0,
    onEvent (e) {
      ctx.out(ctx.json ? JSON.stringify(e) : describeEvent(e))
      return undefined
    },
    // The stream ends after the instance is removed: then so does this.
    check: async () => (await findInstance(ctx, name)) === null ? true : undefined
  })
  return 0
}

function describeEvent (e: StreamEvent): string {
  const d = e.data
  const at = typeof d.at === 'string' ? d.at.slice(11, 23) : ''
  const error = d.error ? `: ${typeof d.error === 'string' ? d.error : d.error.message ?? JSON.stringify(d.error)}` : ''
  switch (e.event) {
    case 'state':
    case 'health':
      return `${at}  ${e.event.padEnd(9)} ${d.from ?? '-'} → ${d.to}${error}`
    case 'step': {
      const took = d.duration_ms !== undefined ? ` ${duration(d.duration_ms)}` : ''
      const waiting = d.waiting_for ? ` (waiting for ${d.waiting_for})` : ''
      const attempt = d.attempt > 1 ? ` attempt ${d.attempt}` : ''
      return `${at}  step      ${shortName(d.step)} ${d.status}${attempt}${took}${waiting}${error}`
    }
    case 'operation':
      return `${at}  operation ${shortName(d.operation)} ${d.status}${d.duration_ms !== undefined ? ` ${duration(d.duration_ms)}` : ''}${error}`
    default:
      return `${at}  ${e.event.padEnd(9)} ${JSON.stringify(d)}`
  }
}

async function logs (ctx: Ctx, name: string, opts: { follow?: boolean, tail: number }): Promise<number> {
  const result = await ctx.api.GET('/instances/{name}/logs', {
    params: { path: { name }, query: { tail: opts.tail, follow: Boolean(opts.follow) } },
    headers: { accept: ctx.json ? 'application/x-ndjson' : 'text/plain' },
    parseAs: 'stream'
  })
  const body = unwrap(result) as unknown as ReadableStream<Uint8Array> | null
  if (!body) return 0
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) process.stdout.write(chunk)
  return 0
}

async function health (ctx: Ctx, name: string, opts: { limit: number }): Promise<number> {
  const report = unwrap(await ctx.api.GET('/instances/{name}/health', { params: { path: { name }, query: { limit: opts.limit } } }))
  if (ctx.json) return printJson(ctx, report), 0
  const verdict = report.health === 'healthy' ? paint('green', report.health, process.stdout) : report.health === 'unhealthy' ? paint('red', report.health, process.stdout) : report.health
  ctx.out(details([
    ['Name', report.name], ['State', report.state], ['Health', verdict],
    ['Failures in a row', report.consecutive_failures],
    ['Last check', report.last_health_check_at ? `${age(report.last_health_check_at)} ago` : null],
    ['Response time', report.last_response_time_ms === null ? null : `${report.last_response_time_ms} ms`]
  ]))
  if (report.checks.length > 0) {
    ctx.out('')
    ctx.out(table(['CHECKED', 'OK', 'TIME', 'ERROR'], report.checks.map(c => [c.checked_at, c.ok ? 'yes' : 'no', `${c.response_time_ms} ms`, c.error])))
  }
  return 0
}

async function ops (ctx: Ctx, name: string, opts: { limit: number }): Promise<number> {
  const page = unwrap(await ctx.api.GET('/instances/{name}/operations', { params: { path: { name }, query: { limit: opts.limit } } }))
  if (ctx.json) return printJson(ctx, page.items), 0
  if (page.items.length === 0) return ctx.err('No operations.'), 0
  ctx.out(table(['ID', 'KIND', 'STATUS', 'CREATED', 'TOOK', 'ERROR'], page.items.map(o => [
    o.id, o.kind, o.status, `${age(o.created_at)} ago`,
    o.started_at && o.finished_at ? duration(Date.parse(o.finished_at) - Date.parse(o.started_at)) : null,
    o.error ? `${o.error.step ? `${shortName(o.error.step)}: ` : ''}${o.error.message}` : null
  ])))
  return 0
}
