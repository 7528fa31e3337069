// reset-password: the new password (sealed by the API as the instance's
// pending password) is set on the server as a SCRAM verifier, kept where
// the platform keeps it (the Kubernetes Secret), then becomes the
// instance's password. Health checks try the pending one when the current
// one is refused, so they keep passing through the change. A reset that
// fails or is cancelled puts the old password back on the server.
import type { Context } from '../engine/index.ts'
import type { Activities } from '../activities/index.ts'
import { failure, wrongState } from './failure.ts'
import type { InstanceChangeInput, InstanceChangeOutput } from './types.ts'

/**
 * reset-password (see the header). Throws NonRetryableError, after dropping the
 * pending password, when the instance is not running; on failure rethrows once
 * the old password is back and the instance is running again with the error.
 */
export async function resetPassword (ctx: Context<Activities>, input: InstanceChangeInput): Promise<InstanceChangeOutput> {
  const act = ctx.activities
  const { instance_id } = input
  const ref = { namespace: input.namespace, instance_name: input.name, instance_id }
  const begun = await act.setState({ instance_id, from: ['running'], to: 'updating' })
  if (!begun.moved) {
    await act.discardPassword({ instance_id })
    throw wrongState('reset the password of', begun.from)
  }
  try {
    const changed = await act.changePassword({ instance_id })
    await act.storePassword(ref)
    await act.commitPassword({ instance_id })
    await act.setState({ instance_id, from: ['updating'], to: 'running', error: null })
    return { instance_name: input.name, changes: [changed.detail] }
  } catch (err) {
    await act.discardPassword({ instance_id })
    await act.setState({ instance_id, from: ['updating'], to: 'running', error: failure(err) })
    throw err
  }
}
