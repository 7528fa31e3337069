// The control plane's real certificate authority (src/tls/authority.ts),
// without a database: its one stored row is whatever it offers to store.
// The Kubernetes tests issue server certificates with it, as deploy does.
import { randomBytes } from 'node:crypto'
import type { Queryable } from '../../../src/db/queryable.ts'
import { createSecretBox } from '../../../src/secrets.ts'
import { loadCertificateAuthority, type CertificateAuthority } from '../../../src/tls/authority.ts'
import type { ServerNames, TlsMaterial } from '../../../src/provisioners/types.ts'

const oneRow = { query: async (_sql: string, params: unknown[]) => ({ rows: [{ certificate_pem: params[0], private_key_ciphertext: params[1] }] }) } as unknown as Queryable

let authority: Promise<CertificateAuthority> | undefined

export function testAuthority (): Promise<CertificateAuthority> {
  authority ??= loadCertificateAuthority(oneRow, createSecretBox(randomBytes(32)), 'test-plane')
  return authority
}

export async function issue (names: ServerNames, commonName = 'orders'): Promise<TlsMaterial> {
  return (await testAuthority()).issueServerCertificate(names, commonName)
}
