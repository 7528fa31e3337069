// Connection details: a URI with the password filled in (percent-encoded,
// as the API's own connection_uri), and libpq's environment for psql with
// the instance's CA in a private temporary file.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Instance } from '../client/index.ts'

/** The address to connect to: the DNS name's when there is one. */
export const connectionString = (i: Pick<Instance, 'dns_connection_string' | 'ip_connection_string'>): string | null =>
  i.dns_connection_string ?? i.ip_connection_string

export function withPassword (connectionString: string, password: string): string {
  const url = new URL(connectionString)
  url.password = encodeURIComponent(password)
  return url.toString()
}

/** PGHOST, PGPORT, PGUSER, PGDATABASE of a postgresql:// URI (and its sslmode, if it names one). */
export function libpqEnv (connectionString: string): Record<string, string> {
  const url = new URL(connectionString)
  const env: Record<string, string> = {
    PGHOST: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username) || 'postgres',
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)) || 'postgres'
  }
  return env
}

/** Writes `pem` to a file only this user can read; `remove` deletes it and its directory. */
export async function privateCaFile (pem: string): Promise<{ path: string, remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-ca-'))
  const path = join(dir, 'ca.crt')
  await writeFile(path, pem, { mode: 0o600 })
  return { path, remove: () => rm(dir, { recursive: true, force: true }) }
}
