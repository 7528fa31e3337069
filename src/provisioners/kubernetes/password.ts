// set-password: the password Secret follows the role's new password (changed
// over SQL by the caller). The server reads POSTGRES_PASSWORD only when it
// initialises an empty volume, so the running server is not touched.
import type { V1Secret } from '@kubernetes/client-node'
import type { ActivityContext, ChangeOutput, SetPasswordInput } from '../types.ts'
import { readOwned, type Kube } from './context.ts'
import { objectNames, PASSWORD_KEY } from './names.ts'

/**
 * set-password on Kubernetes: the credentials Secret's password becomes
 * `input.password` (changed: false when it already is); the running server is
 * not touched. Throws PermanentProvisionerError when the Secret is missing or
 * not this instance's.
 */
export async function setPassword (k: Kube, input: SetPasswordInput, ctx: ActivityContext): Promise<ChangeOutput> {
  const name = objectNames(input.instance_name).secret
  const secret = await readOwned<V1Secret>(k, 'Secret', input, name, ctx.signal)
  const encoded = Buffer.from(input.password, 'utf8').toString('base64')
  if (secret.data?.[PASSWORD_KEY] === encoded) return { changed: false, detail: `Secret ${name} already holds this password` }
  await k.client.patch('Secret', input.namespace, name, { data: { [PASSWORD_KEY]: encoded } }, ctx.signal)
  return { changed: true, detail: `Secret ${name} holds the new password` }
}
