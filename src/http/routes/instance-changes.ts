// Day-2 changes: restart, stop, start, reset-password (POST) and PATCH.
// Each answers 202 with the operation it started (and, when other changes
// run first, which one it waits for); a PATCH that only changes metadata
// (deletion_protection) answers 200. Routes validate and hand over to the
// services; they never touch an instance themselves.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { ChangeResult } from '../../instances/changes.ts'
import { ResetPasswordRequest, UpdateInstanceRequest } from '../../instances/requests.ts'
import { NameParams } from '../schemas/instances.ts'
import { problems } from '../schemas/problem.ts'
import { RETRY_AFTER_SECONDS } from '../plugins/errors.ts'
import { connectionUri, instanceView, operationView } from '../views.ts'

const changes: FastifyPluginAsyncTypebox = async app => {
  const accepted = async (result: ChangeResult, reply: { code (n: number): { header (k: string, v: string): unknown } }) => {
    app.statusCache.invalidate(result.instance.name)
    reply.code(202).header('location', `/operations/${result.operation.id}`)
    return { ...instanceView(result.instance, operationView(result.operation, [])), queued_behind: result.queued_behind }
  }
  const action = (path: string, operationId: string, summary: string, description: string, run: (name: string) => Promise<ChangeResult>) =>
    app.post(`/instances/:name/${path}`, {
      schema: { tags: ['instances'], operationId, summary, description, params: NameParams, response: { 202: Type.Ref('InstanceChange'), ...problems(400, 401, 404, 409) } }
    }, async (request, reply) => accepted(await run(request.params.name), reply))

  action('restart', 'restartInstance', 'Restart the server',
    'A new server process on the same data (locally a fast restart; on Kubernetes a new pod), then `running` again. Runs after the changes asked before it.',
    name => app.instances.restart(name))
  action('stop', 'stopInstance', 'Stop the server, keeping its data',
    'Monitoring pauses and health shows `stopped`; auto-restart never starts it. On Kubernetes the StatefulSet scales to 0 and the volume stays.',
    name => app.instances.stop(name))
  action('start', 'startInstance', 'Start a stopped server on its data', 'Then `running`, with monitoring resumed.', name => app.instances.start(name))

  app.post('/instances/:name/reset-password', {
    schema: {
      tags: ['instances'],
      operationId: 'resetPassword',
      summary: 'Set a new password (generated, or the one given)',
      description: 'Answers 202 with the new password and a ready-to-paste connection URI, shown this once. The old password stops working when the operation succeeds; health checks keep working through the change. A reset that fails or is cancelled keeps the old password.',
      params: NameParams,
      body: Type.Optional(ResetPasswordRequest),
      response: { 202: Type.Ref('PasswordReset'), ...problems(400, 401, 404, 409) }
    }
  }, async (request, reply) => {
    const result = await app.instances.resetPassword(request.params.name, request.body?.password)
    const view = await accepted(result, reply)
    return { password: result.password, connection_uri: connectionUri(result.instance.ip_connection_string, result.password), ...view }
  })

  app.patch('/instances/:name', {
    schema: {
      tags: ['instances'],
      operationId: 'updateInstance',
      summary: 'Change an instance (JSON merge patch)',
      description: 'parameters (checked against the server\'s pg_settings; an unknown name or a bad value is 422 naming it), storage_size_gb (grow only), labels, allowed_cidrs: 202 with the update-instance operation. deletion_protection alone: 200, at once. Send application/merge-patch+json or application/json.',
      params: NameParams,
      body: UpdateInstanceRequest,
      response: { 200: Type.Ref('Instance'), 202: Type.Ref('InstanceChange'), ...problems(400, 401, 404, 409, 415, 422) }
    }
  }, async (request, reply) => {
    const { parameters, ...rest } = request.body
    const patch = { ...rest, ...(parameters ? { parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v === null ? null : String(v)])) } : {}) }
    const result = await app.instances.update(request.params.name, patch)
    if (result.kind === 'operation') return accepted(result, reply)
    app.statusCache.invalidate(result.instance.name)
    return instanceView(result.instance, null)
  })
}

export default changes
