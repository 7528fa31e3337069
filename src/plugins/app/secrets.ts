// The `secrets` decorator: seals instance passwords (and the CA key) at rest.
import fp from 'fastify-plugin'
import { createSecretBox, loadSecretKey, type SecretBox } from '../../secrets.ts'

declare module 'fastify' {
  interface FastifyInstance {
    secrets: SecretBox
  }
}

export default fp(async app => {
  if (!app.config.secretKey && app.config.databaseUrl) {
    app.log.warn('TOYGRES_SECRET_KEY is not set: using a key file under TOYGRES_DATA_DIR; every replica sharing this database needs the same key')
  }
  app.decorate('secrets', createSecretBox(await loadSecretKey(app.config.secretKey, app.config.dataDir)))
}, { name: 'secrets' })
