// The web dashboard (ui/, built into ui/dist by `npm install`): its page at
// `/` and under `/ui/`, its files under `/ui/`. Client routes live under
// `/ui/` only, so the page never shadows an API path, and an unknown API
// path still answers problem+json. The dashboard can do nothing the API
// cannot: it is static files that call the API with the user's token.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyReply } from 'fastify'
import fp from 'fastify-plugin'

export const DASHBOARD_DIST = fileURLToPath(new URL('../../../ui/dist/', import.meta.url))

// The page talks only to this origin (no CDN): a policy that says so.
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache'
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Toygres</title>
<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">
<h1>Toygres</h1><p>The dashboard has not been built in this checkout. Build it with <code>npm install</code>
(or <code>npm run build:ui</code>) and reload. The API is up: see <a href="/docs">/docs</a>.</p></body></html>`

export default fp<{ root?: string }>(async (app, opts) => {
  const root = opts.root ?? DASHBOARD_DIST
  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'the dashboard is not built (npm install builds it): / explains how')
    app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(NOT_BUILT))
    return
  }
  // The hashed bundles: any file under assets/ (read per request, so a rebuild needs no restart).
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/ui/assets/',
    index: false,
    decorateReply: false,
    setHeaders (reply) {
      // Vite names them by content hash: they never change under one name.
      reply.header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff')
    }
  })
  // reply.sendFile() for the page and the icon.
  await app.register(fastifyStatic, { root, serve: false })
  const page = async (_request: unknown, reply: FastifyReply) => reply.headers(PAGE_HEADERS).sendFile('index.html', { cacheControl: false })
  app.get('/', { schema: { hide: true } }, page)
  app.get('/ui/favicon.svg', { schema: { hide: true } }, async (_request, reply) => reply.sendFile('favicon.svg'))
  // Client routes: the page, which routes itself.
  app.get('/ui/*', { schema: { hide: true } }, page)
}, { name: 'dashboard' })
