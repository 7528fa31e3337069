// create, list, get, delete.
import { type Command, Option } from 'commander'
import { unwrap, type Instance, type paths, type Schemas } from '../../client/index.ts'
import { connectionString, withPassword } from '../connection.ts'
import type { Action, Ctx } from '../context.ts'
import { usage } from '../errors.ts'
import { DEFAULT_TIMEOUT_SECONDS, runToEnd } from '../operations.ts'
import { collect, keyValue, keyValues, positiveInt } from '../options.ts'
import { address, age, details, duration, printJson, shortName, table } from '../output.ts'
import { ask, readStdin } from '../prompt.ts'

type CreateBody = paths['/instances']['post']['requestBody']['content']['application/json']

interface CreateOptions {
  version?: string, storage?: number, label?: string[], allowedCidr?: string[], namespace?: string, dnsLabel?: string,
  loadBalancer?: boolean, protect?: boolean, passwordStdin?: boolean, wait?: boolean, timeout: number
}

export function registerInstances (program: Command, action: Action): void {
  program.command('create')
    .description('Create a PostgreSQL instance (with --wait: follow it until it runs and print its connection string)')
    .argument('<name>', 'lower-case letters, digits and -, starting with a letter')
    .option('--version <major>', 'PostgreSQL major version (default: the server\'s, 18)')
    .option('--storage <gb>', 'storage size in GB (default 10)', positiveInt)
    .option('--label <key=value>', 'a label (repeatable)', keyValue)
    .option('--allowed-cidr <cidr>', 'a network allowed to connect (repeatable; default: anywhere)', collect)
    .option('--namespace <namespace>', 'Kubernetes namespace (default toygres)')
    .option('--dns-label <label>', 'Azure DNS label (<label>.<region>.cloudapp.azure.com)')
    .option('--load-balancer', 'a public LoadBalancer address (the API\'s default)')
    .option('--no-load-balancer', 'a cluster-internal address only')
    .option('--protect', 'turn deletion protection on')
    .option('--password-stdin', 'read the password from stdin (otherwise one is generated and shown once)')
    .option('--wait', 'follow the create to its end and print the connection string')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long (exit 4)', positiveInt, DEFAULT_TIMEOUT_SECONDS)
    .action(action(create))

  program.command('list').alias('ls')
    .description('List instances')
    .addOption(new Option('--state <state>', 'only those in this state').choices(['creating', 'running', 'failed', 'deleting', 'delete_failed', 'stopping', 'stopped', 'starting', 'restarting', 'updating']))
    .option('--label <key=value>', 'only those with this label (repeatable: all must match)', keyValue)
    .action(action(list))

  program.command('get')
    .description('Show an instance: state, health, connection, settings and its latest operation\'s steps')
    .argument('<name>')
    .action(action(get))

  program.command('delete').alias('rm')
    .description('Delete an instance and all its data')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
    .option('--wait', 'follow the delete until the instance is gone')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long (exit 4)', positiveInt, DEFAULT_TIMEOUT_SECONDS)
    .option('--force', 'forget the instance at once without removing its resources (when its platform cannot be reached)')
    .action(action(remove))
}

async function create (ctx: Ctx, name: string, opts: CreateOptions): Promise<number> {
  const body: CreateBody = { name }
  if (opts.version !== undefined) body.postgres_version = opts.version as CreateBody['postgres_version']
  if (opts.storage !== undefined) body.storage_size_gb = opts.storage
  if (opts.label) body.labels = keyValues(opts.label, '--label')
  if (opts.allowedCidr) body.allowed_cidrs = opts.allowedCidr
  if (opts.namespace !== undefined) body.namespace = opts.namespace
  if (opts.dnsLabel !== undefined) body.dns_label = opts.dnsLabel
  if (opts.loadBalancer !== undefined) body.use_load_balancer = opts.loadBalancer
  if (opts.protect) body.deletion_protection = true
  if (opts.passwordStdin) {
    if (process.stdin.isTTY) throw usage('--password-stdin reads the password from a pipe: printf %s "$PASSWORD" | toygres create …')
    body.password = await readStdin()
  }
  const created = unwrap(await ctx.api.POST('/instances', { body }))
  const password = created.password ?? body.password

  if (!opts.wait) {
    if (ctx.json) return printJson(ctx, created), 0
    ctx.out(`${created.name}: ${created.state} (operation ${created.operation?.id ?? '-'})`)
    if (created.password) ctx.out(`password: ${created.password}\n(shown this once: Toygres never shows it again)`)
    ctx.err(`Follow it with: toygres wait ${name} --for running   (or toygres events ${name})`)
    return 0
  }

  const failed = async (): Promise<void> => { if (ctx.json) printJson(ctx, await current(ctx, name)) }
  const outcome = await runToEnd(ctx, {
    name,
    operationId: created.operation!.id,
    doing: `creating ${name}`,
    timeoutSeconds: opts.timeout,
    followHint: `toygres wait ${name} --for running`,
    onFailure: failed
  })
  const instance = await current(ctx, name)
  const address = instance ? connectionString(instance) : null
  const uri = created.connection_uri ?? (address && password ? withPassword(address, password) : address)
  if (ctx.json) return printJson(ctx, { ...instance, ...(created.password ? { password: created.password } : {}), connection_uri: uri }), 0
  const version = instance?.server_version ? ` (${instance.server_version.split(' on ')[0]})` : ''
  const took = outcome.durationMs !== null ? ` in ${duration(outcome.durationMs)}` : ''
  ctx.err(`${name} is running${version}, created${took}. Connect with: toygres psql ${name}`)
  if (uri) ctx.out(uri)
  if (created.password) ctx.err('(the connection string carries the generated password, shown this once: Toygres never shows it again)')
  return 0
}

async function current (ctx: Ctx, name: string): Promise<Instance | null> {
  const { data } = await ctx.api.GET('/instances/{name}', { params: { path: { name } } })
  return data ?? null
}

async function list (ctx: Ctx, opts: { state?: Instance['state'], label?: string[] }): Promise<number> {
  const items: Instance[] = []
  let cursor: string | undefined
  do {
    const page = unwrap(await ctx.api.GET('/instances', {
      params: { query: { limit: 100, ...(cursor ? { cursor } : {}), ...(opts.state ? { state: opts.state } : {}), ...(opts.label ? { label: opts.label.join(',') } : {}) } }
    }))
    items.push(...page.items)
    cursor = page.next_cursor ?? undefined
  } while (cursor)
  if (ctx.json) return printJson(ctx, items), 0
  if (items.length === 0) return ctx.err('No instances.'), 0
  ctx.out(table(['NAME', 'STATE', 'HEALTH', 'VERSION', 'ADDRESS', 'LABELS', 'AGE'], items.map(i => [
    i.name, i.state, i.health, i.postgres_version, address(connectionString(i)),
    Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(','), age(i.created_at)
  ])))
  return 0
}

async function get (ctx: Ctx, name: string): Promise<number> {
  const i = unwrap(await ctx.api.GET('/instances/{name}', { params: { path: { name } } }))
  if (ctx.json) return printJson(ctx, i), 0
  ctx.out(details([
    ['Name', i.name], ['Namespace', i.namespace], ['State', i.state], ['Health', i.health],
    ['Error', i.error ? `${i.error.step ? `${shortName(i.error.step)}: ` : ''}${i.error.message}` : null],
    ['Waiting for', i.waiting_for],
    ['Version', i.server_version ?? i.postgres_version], ['Storage', `${i.storage_size_gb} GB`],
    ['Connection', connectionString(i)],
    ['Labels', Object.entries(i.labels).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Allowed CIDRs', i.allowed_cidrs?.join(', ') ?? 'anywhere'],
    ['Parameters', Object.entries(i.parameters).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Pending restart', i.pending_restart ? 'yes' : 'no'],
    ['Protected', i.deletion_protection ? 'yes' : 'no'],
    ['Last check', i.last_health_check_at ? `${age(i.last_health_check_at)} ago${i.last_response_time_ms !== null ? `, ${i.last_response_time_ms} ms` : ''}` : null],
    ['Created', `${i.created_at} (${age(i.created_at)} ago)`]
  ]))
  const op = i.operation
  if (op) {
    ctx.out(`\nOperation ${op.id} (${shortName(op.name)}): ${op.status}${op.error ? `: ${op.error.message}` : ''}`)
    if (op.steps.length > 0) {
      ctx.out(table(['STEP', 'STATUS', 'ATTEMPTS', 'TOOK', 'NOTE'], op.steps.filter(s => !s.name.startsWith('$')).map(s => [
        shortName(s.name), s.status, s.attempts,
        s.finished_at ? duration(Date.parse(s.finished_at) - Date.parse(s.started_at)) : null,
        s.error?.message ?? s.progress
      ])))
    }
  }
  return 0
}

async function remove (ctx: Ctx, name: string, opts: { yes?: boolean, wait?: boolean, timeout: number, force?: boolean }): Promise<number> {
  if (!opts.yes) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) throw usage(`refusing to delete ${name} without --yes (there is no terminal to confirm on)`)
    const answer = await ask(`Delete ${name} and all its data? Type its name to confirm: `)
    if (answer !== name) throw usage(`not deleted: "${answer}" is not "${name}"`)
  }
  if (opts.force) {
    const forgotten = unwrap(await ctx.api.DELETE('/instances/{name}', { params: { path: { name }, query: { force: true } } })) as Schemas['ForgottenInstance']
    if (ctx.json) return printJson(ctx, forgotten), 0
    ctx.out(`${name} forgotten. What may remain on its platform: ${forgotten.may_remain.join(', ') || 'nothing recorded'}`)
    return 0
  }
  const deleting = unwrap(await ctx.api.DELETE('/instances/{name}', { params: { path: { name } } })) as Instance
  if (!opts.wait) {
    if (ctx.json) return printJson(ctx, deleting), 0
    ctx.out(`${name}: ${deleting.state} (operation ${deleting.operation?.id ?? '-'})`)
    ctx.err(`Follow it with: toygres wait ${name} --for gone`)
    return 0
  }
  await runToEnd(ctx, { name, operationId: deleting.operation!.id, doing: `deleting ${name}`, timeoutSeconds: opts.timeout, followHint: `toygres wait ${name} --for gone` })
  if (ctx.json) return printJson(ctx, { name, deleted: true, operation_id: deleting.operation!.id }), 0
  ctx.out(`${name} deleted`)
  return 0
}
