// The command line: global options, the commands, and exit codes. Every
// command is an async function of a context (cli/context.ts) that returns
// its exit code; errors are turned into one message here (cli/errors.ts).
import { Command, CommanderError, Option } from 'commander'
import pkg from '../package.json' with { type: 'json' }
import { makeContext, type Action, type GlobalOptions, type Io, type OutputFormat } from './context.ts'
import { describeError, EXIT } from './errors.ts'
import { registerChanges } from './commands/changes.ts'
import { registerConnect } from './commands/connect.ts'
import { registerInstances } from './commands/instances.ts'
import { registerObserve } from './commands/observe.ts'
import { registerServer } from './commands/server.ts'

export const DEFAULT_URL = 'http://127.0.0.1:3000'

interface RawGlobals { url?: string, token?: string, output?: OutputFormat }

/** A flag (on the command or before it) wins over the environment, which wins over the default. */
function resolveGlobals (raw: RawGlobals, env: NodeJS.ProcessEnv): GlobalOptions {
  return {
    url: (raw.url ?? env.TOYGRES_URL) || DEFAULT_URL,
    token: raw.token ?? env.TOYGRES_API_TOKEN,
    output: raw.output ?? 'table'
  }
}

/** The global options, accepted before the command and after it. */
function addGlobals (cmd: Command): void {
  cmd.option('--url <url>', `the Toygres API (env TOYGRES_URL, default ${DEFAULT_URL})`)
    .option('--token <token>', 'API token (env TOYGRES_API_TOKEN)')
    .addOption(new Option('-o, --output <format>', 'table or json (json: one document, NDJSON for streams)').choices(['table', 'json']))
}

export async function main (argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok
  let apiUrl = resolveGlobals({}, io.env).url
  const program = new Command('toygres')
    .description('Create, change, watch and connect to PostgreSQL instances of a Toygres control plane.')
    .version(pkg.version, '-V, --version')
    // Program options before the command, the command's own after it (both
    // get the globals), so `create --version 17` is PostgreSQL's version and
    // `psql NAME -c …` passes psql's options through.
    .enablePositionalOptions()
    .showHelpAfterError('(toygres --help, or toygres COMMAND --help)')
    .configureOutput({ writeOut: s => io.stdout.write(s), writeErr: s => io.stderr.write(s) })
    .exitOverride()

  const action: Action = handler => async (...args) => {
    const cmd = args.at(-1) as Command
    const globals = resolveGlobals(cmd.optsWithGlobals<RawGlobals>(), io.env)
    apiUrl = globals.url
    exitCode = (await handler(makeContext(globals, io), ...(args.slice(0, -1) as never))) ?? EXIT.ok
  }
  registerInstances(program, action)
  registerChanges(program, action)
  registerObserve(program, action)
  registerConnect(program, action)
  registerServer(program, io)
  addGlobals(program)
  for (const cmd of program.commands) {
    addGlobals(cmd)
    cmd.exitOverride().configureOutput({ writeOut: s => io.stdout.write(s), writeErr: s => io.stderr.write(s) })
  }

  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, successfully.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage
    }
    const { message, exitCode: code } = describeError(err, { apiUrl, debug: Boolean(io.env.TOYGRES_DEBUG) })
    io.stderr.write(`toygres: ${message}\n`)
    return code
  }
  return exitCode
}
