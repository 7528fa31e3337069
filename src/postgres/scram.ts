// A SCRAM-SHA-256 verifier computed here, so the server is only ever told
// the verifier (`ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`) and never the
// password: nothing in its logs, its statement history or on disk can reveal it.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'

const ITERATIONS = 4096 // PostgreSQL's default scram_iterations

/**
 * SASLprep (RFC 4013) as node-postgres and libpq apply it client-side: the
 * mapping steps and NFKC. Must match what clients do, or they cannot log in.
 */
export function saslprep (password: string): string {
  const nonAsciiSpace = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g
  // eslint-disable-next-line no-misleading-character-class
  const mappedToNothing = /[\u00AD\u034F\u1806\u180B\u180C\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g
  return password.replace(nonAsciiSpace, ' ').replace(mappedToNothing, '').normalize('NFKC')
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password`:
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64, 4096
 * iterations, a random 16-byte salt unless one is given (pg_authid's
 * rolpassword: https://www.postgresql.org/docs/current/catalog-pg-authid.html;
 * RFC 5802 section 3, RFC 7677; PostgreSQL's scram_build_secret in
 * src/common/scram-common.c). ALTER ROLE ... PASSWORD '<verifier>' stores it as
 * it is.
 */
export function scramVerifier (password: string, salt: Buffer = randomBytes(16)): string {
  const salted = pbkdf2Sync(saslprep(password), salt, ITERATIONS, 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  const storedKey = createHash('sha256').update(clientKey).digest()
  const serverKey = createHmac('sha256', salted).update('Server Key').digest()
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}
