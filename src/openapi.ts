// Generates the OpenAPI document from the route schemas, with no database.
import Fastify from 'fastify'
import app, { serverOptions } from './app.ts'
import { loadConfig } from './config.ts'

export async function generateOpenApi (): Promise<string> {
  const fastify = Fastify({ ...serverOptions, logger: false })
  await fastify.register(app, { config: loadConfig({}), databaseUrl: null })
  await fastify.ready()
  const doc = fastify.swagger()
  await fastify.close()
  return `${JSON.stringify(doc, null, 2)}\n`
}

/** The TypeScript types of the document, for the typed client (openapi-typescript; a development tool). */
export async function generateClientTypes (document: string): Promise<string> {
  const { default: openapiTS, astToString } = await import('openapi-typescript')
  return astToString(await openapiTS(document))
}
