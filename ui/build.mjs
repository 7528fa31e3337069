// Builds the dashboard into ui/dist with Vite. `npm install` runs this
// (postinstall), so `npm install && npm start` serves it with no other step.
// Without the dev dependencies (`npm ci --omit=dev`, as in the Docker
// image's final stage) it skips: the Dockerfile builds the dashboard in a
// stage of its own, and the server explains at `/` how to build it.
// Plain JavaScript, not TypeScript: an install hook must run on whatever
// Node runs npm (a production install has no Node 24 devDependency).
import { fileURLToPath } from 'node:url'

let vite
try {
  vite = await import('vite')
} catch {
  process.stdout.write('toygres: dashboard build skipped (Vite is not installed: dev dependencies omitted); `npm run build:ui` builds it\n')
  process.exit(0)
}
const started = Date.now()
await vite.build({ configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)), logLevel: 'warn' })
process.stdout.write(`toygres: dashboard built into ui/dist in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
