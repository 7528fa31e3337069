// Bearer-token auth when TOYGRES_API_TOKEN is set. Probes, the docs and the
// dashboard's files (`/`, `/ui/…`: its API calls carry the token) stay open
// so that orchestrators and people can reach them; /metrics too when
// configured public.
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import { sendProblem } from './errors.ts'

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

export default fp<{ token: string | undefined, metricsPublic: boolean }>(async (app, opts) => {
  if (!opts.token) return
  // Comparing digests keeps the comparison constant-time whatever the length.
  const expected = digest(opts.token)
  const open = (url: string): boolean => {
    const path = url.split('?')[0]!
    return path === '/healthz' || path === '/readyz' || path === '/docs' || path.startsWith('/docs/') ||
      path === '/' || path.startsWith('/ui/') ||
      (opts.metricsPublic && path === '/metrics')
  }
  app.addHook('onRequest', async (request, reply) => {
    if (open(request.url)) return
    const header = request.headers.authorization ?? ''
    const match = /^Bearer (.+)$/i.exec(header)
    if (match && timingSafeEqual(digest(match[1]!.trim()), expected)) return
    reply.header('www-authenticate', 'Bearer realm="toygres"')
    return sendProblem(reply, 'unauthorized', match ? 'the bearer token is not valid' : 'send Authorization: Bearer <TOYGRES_API_TOKEN>')
  })
}, { name: 'auth' })
