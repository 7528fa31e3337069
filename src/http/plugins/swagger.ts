// OpenAPI 3.1 from the route schemas, and Swagger UI at /docs.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { CreatedInstance, ForgottenInstance, Instance, InstanceChange, InstanceList, PasswordReset } from '../schemas/instances.ts'
import { Operation, OperationList, Step } from '../schemas/operations.ts'
import { Problem } from '../schemas/problem.ts'

export default fp(async app => {
  // Shared schemas, referenced by $id from the routes and named in the spec.
  for (const schema of [Problem, Step, Operation, Instance, CreatedInstance, InstanceChange, PasswordReset, ForgottenInstance, InstanceList, OperationList]) app.addSchema(schema)
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Toygres',
        version: '0.1.0',
        description: 'Control plane for PostgreSQL instances. Creating and deleting run as durable operations: the API answers 202 at once; poll the instance for its state.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' }
      },
      servers: [{ url: '/' }],
      tags: [
        { name: 'instances', description: 'PostgreSQL instances' },
        { name: 'operations', description: 'Durable create/delete runs and their steps' },
        { name: 'health', description: 'Liveness, readiness and metrics' }
      ],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'TOYGRES_API_TOKEN, when the server has one' } } },
      security: [{ bearerAuth: [] }]
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } })
}, { name: 'swagger' })
