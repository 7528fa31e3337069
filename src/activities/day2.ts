// Adapters of the day-2 activities: state changes, the provisioner's
// restart/stop/start/resize/labels/network, and what runs on the instance
// itself over SQL (parameters, the password, a configuration reload).
// Each is idempotent: a replay after a crash may run it again.
import { setTimeout as sleep } from 'node:timers/promises'
import {
  commitPendingPassword, discardPendingPassword, markDeleteFailed, readPasswords, recordSettings, transition
} from '../db/instance-changes.ts'
import { readProbeTarget } from '../db/instances.ts'
import type { Queryable } from '../db/queryable.ts'
import { PermanentProvisionerError, type Provisioner } from '../provisioners/provisioner.ts'
import type { SecretBox } from '../secrets.ts'
import type { CertificateAuthority } from '../tls/authority.ts'
import { alterSystem, hbaFingerprint, onInstance, reloadConfiguration, setRolePassword, type InstanceLogin } from './instance-sql.ts'
import type { Activities } from './types.ts'

export interface Day2Deps {
  db: Queryable
  provisioner: Provisioner
  secrets: SecretBox
  authority: CertificateAuthority
}

type Day2 = Pick<Activities, 'setState' | 'markDeleteFailed' | 'restartPostgres' | 'stopPostgres' | 'startPostgres' | 'applyParameters' |
  'changePassword' | 'storePassword' | 'commitPassword' | 'discardPassword' | 'resizeStorage' | 'applyLabels' | 'applyNetwork' | 'recordSettings'>

const AUTH_FAILED = '28P01'

/**
 * The day-2 activities over `deps` (Activities in types.ts gives each
 * contract). Those that log in to the instance read its address and password
 * from the database first: PermanentProvisionerError when the instance is gone,
 * has no address yet, or, for the pending password, no reset is under way.
 */
export function createDay2Activities (deps: Day2Deps): Day2 {
  const { db, provisioner, secrets } = deps

  /** How to log in to the instance as its superuser now. */
  async function login (instanceId: string, which: 'current' | 'pending' = 'current'): Promise<InstanceLogin> {
    const [target, passwords] = await Promise.all([readProbeTarget(db, instanceId), readPasswords(db, instanceId)])
    if (!target || !passwords) throw new PermanentProvisionerError(`instance ${instanceId} no longer exists`)
    if (!target.ip_connection_string) throw new PermanentProvisionerError('the instance has no address yet')
    const sealed = which === 'pending' ? passwords.pending : passwords.current
    if (!sealed) throw new PermanentProvisionerError('no password is being reset')
    return { connection_string: target.ip_connection_string, password: secrets.decrypt(sealed), ca_pem: deps.authority.certificatePem }
  }

  async function pendingPassword (instanceId: string): Promise<string | null> {
    const passwords = await readPasswords(db, instanceId)
    return passwords?.pending ? secrets.decrypt(passwords.pending) : null
  }

  return {
    setState: ({ instance_id: id, from, to, health, error }) => transition(db, id, from, to, { error: error ?? null, ...(health ? { health } : {}) }),
    markDeleteFailed: ({ instance_id: id, step, message }) => markDeleteFailed(db, id, { step, message }),
    restartPostgres: (input, ctx) => provisioner.restartPostgres(input, ctx),
    stopPostgres: (input, ctx) => provisioner.stopPostgres(input, ctx),
    startPostgres: (input, ctx) => provisioner.startPostgres(input, ctx),

    async applyParameters ({ instance_id: id, parameters }, ctx) {
      return onInstance(await login(id), ctx.signal, client => alterSystem(client, parameters, ctx.signal))
    },

    async changePassword ({ instance_id: id }, ctx) {
      const next = await pendingPassword(id)
      if (next === null) return { changed: false, detail: 'no password is being reset' }
      try {
        await onInstance(await login(id), ctx.signal, client => setRolePassword(client, next))
        return { changed: true, detail: 'the superuser password changed on the server' }
      } catch (err) {
        if ((err as { code?: string }).code !== AUTH_FAILED) throw err
        // A replay after the change landed: the new password already works.
        await onInstance(await login(id, 'pending'), ctx.signal, async () => {})
        return { changed: false, detail: 'the server already had the new password' }
      }
    },

    async storePassword (ref, ctx) {
      const next = await pendingPassword(ref.instance_id)
      if (next === null) return { changed: false, detail: 'no password is being reset' }
      return provisioner.setPassword({ ...ref, password: next }, ctx)
    },

    commitPassword: ({ instance_id: id }) => commitPendingPassword(db, id),
    async discardPassword ({ instance_id: id }, ctx) {
      const pending = await pendingPassword(id)
      if (pending === null) return
      // If the server already took the new password, it gets the old one back.
      try {
        const current = (await login(id)).password
        await onInstance(await login(id, 'pending'), ctx.signal, client => setRolePassword(client, current))
      } catch (err) {
        if ((err as { code?: string }).code !== AUTH_FAILED) throw err
      }
      await discardPendingPassword(db, id)
    },
    resizeStorage: (input, ctx) => provisioner.resizeStorage(input, ctx),
    applyLabels: (input, ctx) => provisioner.applyLabels(input, ctx),

    async applyNetwork (input, ctx) {
      const credentials = await login(input.instance_id)
      const before = await onInstance(credentials, ctx.signal, client => hbaFingerprint(client))
      const out = await provisioner.applyNetwork(input, ctx)
      // The rules reach the server's pg_hba.conf at once locally, and after the
      // kubelet's next sync of the mounted ConfigMap on Kubernetes (up to about
      // a minute): reload once the server's file shows them.
      const deadline = Date.now() + input.timeout_seconds * 1000
      return onInstance(credentials, ctx.signal, async client => {
        while (out.changed && await hbaFingerprint(client) === before) {
          if (Date.now() > deadline) throw new Error(`pg_hba.conf did not change within ${input.timeout_seconds} s after the new rules were written`)
          ctx.progress('waiting for the new pg_hba.conf rules to reach the server')
          await sleep(500, undefined, { signal: ctx.signal })
        }
        await reloadConfiguration(client, ctx.signal)
        return out
      })
    },

    recordSettings: ({ instance_id: id, ...settings }) => recordSettings(db, id, settings)
  }
}
