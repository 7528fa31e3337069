// psql (libpq's environment, the instance's CA verified, the password from
// PGPASSWORD or asked for) and url (the connection string).
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Command } from 'commander'
import { unwrap, type Instance } from '../../client/index.ts'
import { connectionString, libpqEnv, privateCaFile, withPassword } from '../connection.ts'
import type { Action, Ctx } from '../context.ts'
import { CliError, EXIT, usage } from '../errors.ts'
import { printJson } from '../output.ts'
import { askSecret } from '../prompt.ts'

export function registerConnect (program: Command, action: Action): void {
  program.command('psql')
    .description('Run psql on an instance (TLS verified against the instance\'s CA). Arguments after NAME go to psql, e.g. toygres psql demo -c "select 1"')
    .argument('<name>')
    .argument('[psql-args...]', 'passed to psql')
    .passThroughOptions()
    .allowUnknownOption()
    .action(action(psql))

  program.command('url')
    .description('Print an instance\'s connection string (without the password unless --with-password)')
    .argument('<name>')
    .option('--with-password', 'fill in the password from PGPASSWORD (percent-encoded)')
    .action(action(url))
}

async function address (ctx: Ctx, name: string): Promise<{ instance: Instance, address: string }> {
  const instance = unwrap(await ctx.api.GET('/instances/{name}', { params: { path: { name } } }))
  const address = connectionString(instance)
  if (!address) throw new CliError(`${name} has no address yet (it is ${instance.state}): toygres wait ${name} --for running`, EXIT.failed)
  return { instance, address }
}

async function url (ctx: Ctx, name: string, opts: { withPassword?: boolean }): Promise<number> {
  const { address: plain } = await address(ctx, name)
  let uri = plain
  if (opts.withPassword) {
    const password = ctx.env.PGPASSWORD
    if (!password) throw usage('--with-password takes the password from PGPASSWORD, which is not set (Toygres does not keep it to show)')
    uri = withPassword(plain, password)
  }
  if (ctx.json) return printJson(ctx, { name, url: uri }), 0
  ctx.out(uri)
  return 0
}

/** A libpq password file line: ':' and '\' escaped. */
const passfileLine = (env: Record<string, string>, password: string): string =>
  [env.PGHOST, env.PGPORT, env.PGDATABASE, env.PGUSER, password].map(v => (v ?? '*').replace(/([\\:])/g, '\\$1')).join(':') + '\n'

async function psql (ctx: Ctx, name: string, args: string[]): Promise<number> {
  const { address: where } = await address(ctx, name)
  const pem = unwrap(await ctx.api.GET('/instances/{name}/ca-certificate', { params: { path: { name } }, parseAs: 'text' })) as unknown as string
  const libpq = libpqEnv(where)
  let password = ctx.env.PGPASSWORD
  if (!password) {
    if (!process.stdin.isTTY) throw usage('set PGPASSWORD: there is no terminal to ask for the password on')
    password = await askSecret(`Password for ${libpq.PGUSER}@${name}: `)
  }
  const ca = await privateCaFile(pem)
  try {
    const env: NodeJS.ProcessEnv = { ...ctx.env, ...libpq, PGSSLMODE: 'verify-ca', PGSSLROOTCERT: ca.path }
    if (!ctx.env.PGPASSWORD) {
      // Asked for: it goes to psql in a private password file, not its environment.
      env.PGPASSFILE = join(dirname(ca.path), 'pgpass')
      await writeFile(env.PGPASSFILE, passfileLine(libpq, password), { mode: 0o600 })
    }
    return await run(ctx.env.TOYGRES_PSQL || 'psql', args, env)
  } finally {
    await ca.remove()
  }
}

/** Runs `command` on this terminal; Ctrl-C is psql's (it cancels a query), not ours. */
function run (command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env })
    const ignore = (): void => {}
    const pass = (signal: NodeJS.Signals): void => { child.kill(signal) }
    process.on('SIGINT', ignore)
    process.on('SIGTERM', pass)
    process.on('SIGHUP', pass)
    const done = (): void => { process.off('SIGINT', ignore); process.off('SIGTERM', pass); process.off('SIGHUP', pass) }
    child.on('error', err => {
      done()
      reject((err as NodeJS.ErrnoException).code === 'ENOENT'
        ? new CliError(`${command} is not installed (e.g. apt-get install postgresql-client)`, EXIT.failed)
        : err)
    })
    child.on('exit', (code, signal) => { done(); resolve(code ?? (signal ? 128 + 2 : 1)) })
  })
}
