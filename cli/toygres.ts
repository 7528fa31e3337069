// `toygres`: the command-line client of the Toygres API (run through
// cli/toygres.js, which makes sure a Node that strips types runs this).
import { main } from './program.ts'

const code = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr })
// Writes to pipes and terminals are synchronous on POSIX: nothing is lost by exiting now,
// and nothing (an idle keep-alive socket) holds the command open.
process.exit(code)
