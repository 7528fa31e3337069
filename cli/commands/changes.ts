// Day-2 changes: restart, stop, start, reset-password, set (parameters),
// protect, and cancel (an operation). Each starts an operation and answers
// at once; --wait follows it to its end, step by step.
import type { Command } from 'commander'
import { unwrap, type Schemas } from '../../client/index.ts'
import { connectionString, withPassword } from '../connection.ts'
import type { Action, Ctx } from '../context.ts'
import { usage } from '../errors.ts'
import { DEFAULT_TIMEOUT_SECONDS, runToEnd } from '../operations.ts'
import { collect, keyValues, positiveInt } from '../options.ts'
import { printJson, shortName } from '../output.ts'
import { readStdin } from '../prompt.ts'
import { findInstance } from '../waiting.ts'

interface WaitOptions { wait?: boolean, timeout: number }

const waitable = (cmd: Command): Command => cmd
  .option('--wait', 'follow the operation to its end, step by step')
  .option('--timeout <seconds>', 'with --wait: give up waiting after this long (exit 4)', positiveInt, DEFAULT_TIMEOUT_SECONDS)

export function registerChanges (program: Command, action: Action): void {
  for (const [verb, path, description] of [
    ['restart', 'restart', 'Restart the server (a new process on the same data)'],
    ['stop', 'stop', 'Stop the server, keeping its data'],
    ['start', 'start', 'Start a stopped server']
  ] as const) {
    waitable(program.command(verb).description(description).argument('<name>'))
      .action(action((ctx: Ctx, name: string, opts: WaitOptions) => lifecycle(ctx, verb, path, name, opts)))
  }

  waitable(program.command('reset-password')
    .description('Set a new password (generated, or read from stdin) and show it this once')
    .argument('<name>')
    .option('--password-stdin', 'read the new password from stdin'))
    .action(action(resetPassword))

  waitable(program.command('set')
    .description('Change PostgreSQL settings, e.g. toygres set demo work_mem=64MB')
    .argument('<name>')
    .argument('[settings...]', 'name=value pairs')
    .option('--unset <setting>', 'reset a setting to its default (repeatable)', collect)
    .option('--restart', 'restart the server when a setting needs it (otherwise settings that need one wait for the next restart)'))
    .action(action(set))

  program.command('protect')
    .description('Turn deletion protection on or off')
    .argument('<name>')
    .option('--on', 'refuse deletes')
    .option('--off', 'allow deletes')
    .action(action(protect))

  program.command('cancel')
    .description('Cancel a pending or running operation (its compensation runs)')
    .argument('<operation-id>')
    .action(action(cancel))
}

type Change = Schemas['InstanceChange']

/** Prints a started change, or follows it and prints the instance as it ended. */
async function started (ctx: Ctx, change: Change, doing: string, opts: WaitOptions): Promise<number> {
  if (!opts.wait) {
    if (ctx.json) return printJson(ctx, change), 0
    ctx.out(`${doing}: operation ${change.operation?.id ?? '-'}`)
    if (change.queued_behind) ctx.err(`It runs after operation ${change.queued_behind}.`)
    ctx.err(`Follow it with: toygres events ${change.name}`)
    return 0
  }
  await runToEnd(ctx, { name: change.name, operationId: change.operation!.id, doing, timeoutSeconds: opts.timeout, followHint: `toygres events ${change.name}` })
  const instance = await findInstance(ctx, change.name)
  if (ctx.json) return printJson(ctx, instance), 0
  ctx.out(`${change.name}: ${instance?.state ?? 'gone'}${instance?.pending_restart ? ' (a setting waits for a restart)' : ''}`)
  return 0
}

async function lifecycle (ctx: Ctx, verb: string, path: 'restart' | 'stop' | 'start', name: string, opts: WaitOptions): Promise<number> {
  const params = { params: { path: { name } } }
  const change = path === 'restart'
    ? unwrap(await ctx.api.POST('/instances/{name}/restart', params))
    : path === 'stop'
      ? unwrap(await ctx.api.POST('/instances/{name}/stop', params))
      : unwrap(await ctx.api.POST('/instances/{name}/start', params))
  return started(ctx, change, `${verb === 'stop' ? 'stopping' : verb === 'start' ? 'starting' : 'restarting'} ${name}`, opts)
}

async function resetPassword (ctx: Ctx, name: string, opts: WaitOptions & { passwordStdin?: boolean }): Promise<number> {
  let password: string | undefined
  if (opts.passwordStdin) {
    if (process.stdin.isTTY) throw usage('--password-stdin reads the password from a pipe')
    password = await readStdin()
  }
  const reset = unwrap(await ctx.api.POST('/instances/{name}/reset-password', { params: { path: { name } }, body: password === undefined ? {} : { password } }))
  if (opts.wait) {
    await runToEnd(ctx, { name, operationId: reset.operation!.id, doing: `resetting the password of ${name}`, timeoutSeconds: opts.timeout, followHint: `toygres events ${name}` })
  }
  if (ctx.json) return printJson(ctx, reset), 0
  const address = connectionString(reset)
  const uri = reset.connection_uri ?? (address ? withPassword(address, reset.password) : null)
  ctx.out(`password: ${reset.password}`)
  if (uri) ctx.out(uri)
  ctx.err(opts.wait
    ? '(shown this once: Toygres never shows it again)'
    : `(shown this once: Toygres never shows it again; it works once the operation ${reset.operation?.id ?? ''} succeeds)`)
  return 0
}

async function set (ctx: Ctx, name: string, settings: string[], opts: WaitOptions & { unset?: string[], restart?: boolean }): Promise<number> {
  const parameters: Record<string, string | null> = keyValues(settings, 'setting')
  for (const key of opts.unset ?? []) parameters[key] = null
  if (Object.keys(parameters).length === 0) throw usage('give settings as name=value (e.g. work_mem=64MB), or --unset name')
  const { data, error, response } = await ctx.api.PATCH('/instances/{name}', {
    params: { path: { name } },
    body: { parameters, ...(opts.restart ? { apply: 'restart' as const } : {}) }
  })
  const changed = unwrap({ data, error, response })
  if (!('queued_behind' in changed)) return ctx.json ? (printJson(ctx, changed), 0) : (ctx.out(`${name}: ${changed.state}`), 0)
  return started(ctx, changed, `changing the settings of ${name}`, opts)
}

async function protect (ctx: Ctx, name: string, opts: { on?: boolean, off?: boolean }): Promise<number> {
  if (Boolean(opts.on) === Boolean(opts.off)) throw usage('say --on or --off')
  const instance = unwrap(await ctx.api.PATCH('/instances/{name}', { params: { path: { name } }, body: { deletion_protection: Boolean(opts.on) } }))
  if (ctx.json) return printJson(ctx, instance), 0
  ctx.out(`${name}: deletion protection ${instance.deletion_protection ? 'on' : 'off'}`)
  return 0
}

async function cancel (ctx: Ctx, id: string): Promise<number> {
  const op = unwrap(await ctx.api.POST('/operations/{id}/cancel', { params: { path: { id } } }))
  if (ctx.json) return printJson(ctx, op), 0
  ctx.out(`operation ${op.id} (${shortName(op.name)} of ${op.key}): ${op.status}${op.cancel_requested_at ? ', cancel requested' : ''}`)
  return 0
}
