// An instance's server log, as users read it: the last lines, then new ones
// while following; never a password. PostgreSQL can log statements that
// carry one (ALTER ROLE ... PASSWORD '...', or a failing statement echoed
// at ERROR): the servers are configured not to, and every line is redacted
// here anyway, for the literal password forms and for the instance's own
// passwords wherever they appear.
import { readPasswords } from '../db/instance-changes.ts'
import type { InstanceRow } from '../db/instances.ts'
import type { Queryable } from '../db/queryable.ts'
import type { Provisioner } from '../provisioners/provisioner.ts'
import type { SecretBox } from '../secrets.ts'

const PASSWORD_LITERAL = /(PASSWORD\s+)(E?'(?:[^']|'')*'|\$([A-Za-z_]*)\$[\s\S]*?\$\3\$)/gi
const VERIFIER = /(SCRAM-SHA-256|md5)\$?[A-Za-z0-9+/=:$]{16,}/g

/** `line` with password literals, verifiers and the given secrets replaced by ***. */
export function redactLine (line: string, secrets: string[]): string {
  let out = line.replace(PASSWORD_LITERAL, '$1***').replace(VERIFIER, '$1$***')
  for (const s of secrets) if (s.length >= 4) out = out.replaceAll(s, '***')
  return out
}

export interface LogsDeps {
  db: Queryable
  provisioner: Pick<Provisioner, 'readLogs'>
  secrets: SecretBox
}

/** The instance's log lines, redacted; ends when `signal` aborts or, unless following, after the tail. */
export async function * instanceLogs (deps: LogsDeps, row: InstanceRow, opts: { tail: number, follow: boolean }, signal: AbortSignal): AsyncGenerator<string> {
  const sealed = await readPasswords(deps.db, row.id)
  const known = sealed ? [sealed.current, sealed.pending].filter((s): s is string => s !== null).map(s => deps.secrets.decrypt(s)) : []
  const ref = { namespace: row.namespace, instance_name: row.name, instance_id: row.id, tail: opts.tail, follow: opts.follow }
  for await (const line of deps.provisioner.readLogs(ref, signal)) {
    if (signal.aborted) return
    yield redactLine(line, known)
  }
}
