// Who may connect: pg_hba.conf, rewritten whole from allowed_cidrs. Loopback
// always (the control plane's health checks, local clients), in plain TCP or
// TLS; every allowed network over TLS only (hostssl); null allows anywhere.
// The servers listen on 127.0.0.1 only, so these rules narrow who may log
// in and never open a port to another network.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { isCidr } from '../../cidr.ts'
import type { RunAs } from '../../postgres/binaries.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import { startupReply } from './probe.ts'
import { reloadServer } from './server.ts'
import { writeOwnedFile } from './tls.ts'

/** Each CIDR is checked before it becomes a line of pg_hba.conf (a newline in one would be a rule of its own). */
export function checkCidrs (allowed: string[] | null): void {
  const bad = allowed?.find(c => !isCidr(c))
  if (bad !== undefined) throw new PermanentProvisionerError(`allowed_cidrs: ${JSON.stringify(bad)} is not an IPv4 or IPv6 network in CIDR notation`)
}

/**
 * A role name no one has, rejected by the file's first rule: a probe that
 * logs in as it is refused (28000) exactly when the server has loaded this
 * version of the file, and is asked for a password while an older one is
 * in force. That is how a reload is known to have taken effect. The server
 * certificate is part of the name, so a new certificate is a new version of
 * the file too: PostgreSQL reloads TLS files right after pg_hba.conf, in the
 * same step, before it accepts the next connection.
 */
const markerRole = (body: string, certPem: string): string => `toygres_hba_${createHash('sha256').update(body).update(certPem).digest('hex').slice(0, 12)}`

/**
 * pg_hba.conf for a local instance, as text: a first `reject` rule for a marker
 * role named after the rest of the file and `certPem` (see markerRole),
 * scram-sha-256 from loopback over plain TCP or TLS, and `hostssl` from each
 * allowed network (0.0.0.0/0 and ::/0 for null). Networks are written as given:
 * check them first (checkCidrs). Format:
 * https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
 */
export function hbaFile (allowed: string[] | null, certPem: string): string {
  const networks = allowed ?? ['0.0.0.0/0', '::/0']
  const body = [
    '# Loopback: plain TCP or TLS.',
    'host    all          all  127.0.0.1/32  scram-sha-256',
    'host    all          all  ::1/128       scram-sha-256',
    'host    replication  all  127.0.0.1/32  scram-sha-256',
    `# allowed_cidrs${allowed === null ? ' (null: anywhere)' : ''}: TLS only.`,
    ...networks.map(cidr => `hostssl all          all  ${cidr.padEnd(13)} scram-sha-256`),
    ''
  ].join('\n')
  return [
    '# Written by Toygres from the instance\'s allowed_cidrs; edits here are replaced.',
    `host    all          ${markerRole(body, certPem)}  127.0.0.1/32  reject`,
    body
  ].join('\n')
}

/** Writes pg_hba.conf for `allowed` (and the server certificate in place); false when it already says that. */
export async function writeHba (pgdata: string, allowed: string[] | null, runAs: RunAs | undefined): Promise<boolean> {
  const file = join(pgdata, 'pg_hba.conf')
  const content = hbaFile(allowed, await readFile(join(pgdata, 'server.crt'), 'utf8').catch(() => ''))
  if (await readFile(file, 'utf8').catch(() => '') === content) return false
  await writeOwnedFile(file, content, 0o600, runAs)
  return true
}

/**
 * Asks the server to re-read its configuration and waits until the file on
 * disk is the one in force. 'not-running' when there is no server (it reads
 * the file when it starts); 'reloaded' without waiting for a file that has no
 * marker role. Waits at most `timeoutMs` ms, then throws a plain (retryable)
 * Error; rejects when `signal` aborts.
 */
export async function reloadHba (pgdata: string, port: number, signal: AbortSignal, timeoutMs = 10_000): Promise<'reloaded' | 'not-running'> {
  const content = await readFile(join(pgdata, 'pg_hba.conf'), 'utf8')
  const role = /^host\s+all\s+(toygres_hba_[0-9a-f]+)\s/m.exec(content)?.[1]
  if (!(await reloadServer(pgdata))) return 'not-running'
  if (role === undefined) return 'reloaded' // not a file of ours: nothing to confirm with
  const deadline = Date.now() + timeoutMs
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const reply = await startupReply(port, role, '127.0.0.1', 2000, signal)
    signal.throwIfAborted()
    if (reply.kind === 'error' && reply.code === '28000') return 'reloaded'
    if (Date.now() > deadline) throw new Error(`the server on port ${port} has not loaded the new pg_hba.conf after ${timeoutMs / 1000} s (see its log: a reload that fails is reported there)`)
    await sleep(delay, undefined, { signal })
  }
}
