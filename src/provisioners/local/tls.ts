// The instance's TLS files. In the data directory, server.crt and
// server.key, owned by the server's OS user with mode 0600 (PostgreSQL
// refuses a key that others can read). Beside instance.json, root.crt: the
// control plane's CA, public, for clients' sslrootcert. A redeploy keeps a
// certificate from the same CA (the activity issues a fresh one on every
// call, and swapping it would gain nothing); a new CA replaces all three.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { access, chown, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import type { RunAs } from '../../postgres/binaries.ts'
import { PermanentProvisionerError } from '../provisioner.ts'
import type { TlsMaterial } from '../types.ts'

/** Fails at once on material PostgreSQL could not use: better than a server that will not start. */
export function checkTls (tls: TlsMaterial): void {
  let problem: string | undefined
  try {
    const cert = new X509Certificate(tls.cert_pem)
    const ca = new X509Certificate(tls.ca_pem)
    if (!cert.checkPrivateKey(createPrivateKey(tls.key_pem))) problem = 'the key does not belong to the certificate'
    else if (!cert.verify(ca.publicKey)) problem = 'the certificate is not signed by the CA'
  } catch (err) {
    problem = `not PEM that OpenSSL reads (${(err as Error).message})`
  }
  if (problem) throw new PermanentProvisionerError(`the instance's TLS material is unusable: ${problem}`)
}

/** Writes `content` whole (beside the target, then renamed over it), owned by `runAs`. */
export async function writeOwnedFile (file: string, content: string, mode: number, runAs: RunAs | undefined): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}`
  await writeFile(tmp, content, { mode })
  if (runAs) await chown(tmp, runAs.uid, runAs.gid)
  await rename(tmp, file)
}

/** Writes the three files; the server reads them at its next start or reload. */
export async function writeTls (pgdata: string, rootCert: string, tls: TlsMaterial, runAs: RunAs | undefined): Promise<void> {
  await writeOwnedFile(join(pgdata, 'server.key'), tls.key_pem, 0o600, runAs)
  await writeOwnedFile(join(pgdata, 'server.crt'), tls.cert_pem, 0o600, runAs)
  await writeOwnedFile(rootCert, tls.ca_pem, 0o644, undefined)
}

/** True when the instance has its server files and they come from `tls`'s CA. */
export async function hasTlsFrom (pgdata: string, rootCert: string, tls: TlsMaterial): Promise<boolean> {
  const ca = await readFile(rootCert, 'utf8').catch(() => undefined)
  if (ca?.trim() !== tls.ca_pem.trim()) return false
  return access(join(pgdata, 'server.key')).then(() => access(join(pgdata, 'server.crt'))).then(() => true, () => false)
}
