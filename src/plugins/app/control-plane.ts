// The `controlPlane` decorator: this control plane's id (the mark on
// everything it creates) and its certificate authority, both shared by
// every replica through the database.
import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import { claimControlPlaneId } from '../../db/control-plane.ts'
import { loadCertificateAuthority, type CertificateAuthority } from '../../tls/authority.ts'

declare module 'fastify' {
  interface FastifyInstance {
    controlPlane: { id: string, authority: CertificateAuthority }
  }
}

export default fp(async app => {
  const id = await claimControlPlaneId(app.db, randomBytes(6).toString('hex'))
  const authority = await loadCertificateAuthority(app.db, app.secrets, id)
  app.decorate('controlPlane', { id, authority })
}, { name: 'control-plane', dependencies: ['db', 'secrets'] })
