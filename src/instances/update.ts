// PATCH /instances/{name} (a JSON merge patch, RFC 7396): deletion
// protection changes at once (200); parameters, storage, labels and
// allowed_cidrs change the server, through an update-instance operation
// (202). Everything is checked before anything changes: parameters against
// the running server's own pg_settings, storage grows only, labels follow
// Kubernetes' label syntax.
import { readProbeTarget, findInstanceByName, type InstanceRow } from '../db/instances.ts'
import { setDeletionProtection } from '../db/instance-changes.ts'
import { onInstance, readSettings } from '../activities/instance-sql.ts'
import { ToygresError, type FieldError } from '../errors.ts'
import { settingProblem } from '../postgres/settings.ts'
import type { UpdateInstanceInput } from '../orchestrations/types.ts'
import { startChange, type ChangeResult } from './changes.ts'
import { labelProblems } from './labels.ts'
import type { InstanceServiceDeps } from './service.ts'
import type { UpdateInstanceRequest } from './requests.ts'

export type UpdateResult = { kind: 'metadata', instance: InstanceRow } | ({ kind: 'operation' } & ChangeResult)

const invalid = (errors: FieldError[]): ToygresError =>
  new ToygresError('invalid-change', errors.map(e => `${e.field} ${e.message}`).join('; '), { errors })

export async function updateInstance (deps: InstanceServiceDeps, name: string, patch: UpdateInstanceRequest): Promise<UpdateResult> {
  const row = await findInstanceByName(deps.pool, name)
  if (!row) throw new ToygresError('not-found', `no instance named "${name}"`)
  const change: Omit<UpdateInstanceInput, keyof import('../orchestrations/types.ts').InstanceChangeInput> = {}
  const errors: FieldError[] = []

  if (patch.storage_size_gb !== undefined && patch.storage_size_gb !== row.storage_size_gb) {
    if (patch.storage_size_gb < row.storage_size_gb) errors.push({ field: 'body.storage_size_gb', message: `can only grow: the volume has ${row.storage_size_gb} GB` })
    else change.storage_size_gb = patch.storage_size_gb
  }
  if (patch.labels !== undefined) {
    const labels: Record<string, string> = { ...row.labels }
    for (const [k, v] of Object.entries(patch.labels)) { if (v === null) delete labels[k]; else labels[k] = v }
    errors.push(...labelProblems(patch.labels, 'body.labels'))
    change.labels = labels
  }
  if (patch.allowed_cidrs !== undefined) change.allowed_cidrs = patch.allowed_cidrs
  if (patch.parameters !== undefined && Object.keys(patch.parameters).length > 0) {
    errors.push(...await parameterProblems(deps, row, patch.parameters))
    change.parameters = patch.parameters
    change.apply = patch.apply ?? 'reload'
  } else if (patch.apply !== undefined) {
    errors.push({ field: 'body.apply', message: 'goes with parameters: it says whether to restart for settings that need it' })
  }
  if (errors.length > 0) throw invalid(errors)

  const serverChange = Object.keys(change).length > 0
  if (!serverChange) {
    if (patch.deletion_protection !== undefined) await setDeletionProtection(deps.pool, row.id, patch.deletion_protection)
    return { kind: 'metadata', instance: { ...row, deletion_protection: patch.deletion_protection ?? row.deletion_protection } }
  }
  const result = await startChange(deps, name, {
    kind: 'update',
    verb: 'change',
    handle: deps.orchestrations.updateInstance,
    input: (_r, base) => ({ ...base, ...change }),
    check: (r, queued) => {
      if (r.state === 'stopped' && !queued) throw new ToygresError('conflict', `cannot change "${r.name}" while it is stopped; start it first (POST /instances/${r.name}/start)`)
    },
    before: async (client, r) => { if (patch.deletion_protection !== undefined) await setDeletionProtection(client, r.id, patch.deletion_protection) }
  })
  return { kind: 'operation', ...result, instance: { ...result.instance, deletion_protection: patch.deletion_protection ?? result.instance.deletion_protection } }
}

/** Each parameter's name and value, checked against the running server's pg_settings. */
async function parameterProblems (deps: InstanceServiceDeps, row: InstanceRow, parameters: Record<string, string | null>): Promise<FieldError[]> {
  const target = await readProbeTarget(deps.pool, row.id)
  if (!target?.ip_connection_string || !['running', 'updating', 'restarting'].includes(row.state)) {
    throw new ToygresError('conflict', `parameters are checked against the running server: "${row.name}" is ${row.state}; change them once it runs`)
  }
  const login = { connection_string: target.ip_connection_string, password: deps.secrets.decrypt(target.password_ciphertext), ca_pem: deps.authority.certificatePem }
  const names = Object.keys(parameters)
  let rows
  try {
    rows = await onInstance(login, AbortSignal.timeout(10_000), client => readSettings(client, names.map(n => n.toLowerCase())))
  } catch (err) {
    throw new ToygresError('unavailable', `could not reach "${row.name}" to check the parameters: ${(err as Error).message}`, { cause: err })
  }
  const byName = new Map(rows.map(r => [r.name, r]))
  const problems: FieldError[] = []
  for (const [name, value] of Object.entries(parameters)) {
    const setting = byName.get(name.toLowerCase())
    const field = `body.parameters.${name}`
    if (!setting) problems.push({ field, message: 'is not a PostgreSQL parameter of this server (see SHOW ALL, or pg_settings)' })
    else if (value !== null) {
      const problem = settingProblem(setting, value)
      if (problem) problems.push({ field, message: problem })
    }
  }
  return problems
}
