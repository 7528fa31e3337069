// Instance passwords at rest: AES-256-GCM under TOYGRES_SECRET_KEY, or under a
// key file the embedded default generates (mode 0600). Ciphertext format:
// v1.<iv>.<tag>.<data>, base64url parts.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface SecretBox {
  encrypt (plain: string): string
  decrypt (sealed: string): string
  /** Keyed digest: lets us compare secrets without storing them. */
  hmac (data: string): string
}

export function createSecretBox (key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes')
  return {
    encrypt (plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return ['v1', iv, cipher.getAuthTag(), data].map(p => typeof p === 'string' ? p : p.toString('base64url')).join('.')
    },
    decrypt (sealed) {
      const [version, iv, tag, data] = sealed.split('.')
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('unreadable ciphertext')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8')
    },
    hmac (data) {
      return createHmac('sha256', key).update(data).digest('base64url')
    }
  }
}

/** The configured key, or the one kept in `<dataDir>/secret.key` (created on first use). */
export async function loadSecretKey (configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured) return /^[0-9a-fA-F]{64}$/.test(configured) ? Buffer.from(configured, 'hex') : Buffer.from(configured, 'base64url')
  const file = join(dataDir, 'secret.key')
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  await mkdir(dataDir, { recursive: true })
  const key = randomBytes(32)
  // 'wx': if another process created it first, use theirs.
  try {
    await writeFile(file, key.toString('base64url'), { mode: 0o600, flag: 'wx' })
    return key
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url')
  }
}

/** 24 random bytes, URL-safe: strong, and needs no escaping in a connection URI. */
export function generatePassword (): string {
  return randomBytes(24).toString('base64url')
}
