// The control plane's certificate authority: one ECDSA P-256 CA per control
// plane (stored in toygres.certificate_authority, its key sealed with the
// secret box), which signs a server certificate for every instance. Clients
// verify instances against it (sslmode=verify-ca, or verify-full through a
// name in the certificate). X.509 is built with @peculiar/x509 over Node's
// WebCrypto; nothing shells out to openssl.
import 'reflect-metadata' // @peculiar/x509's dependency injection needs the Reflect metadata polyfill
import { webcrypto } from 'node:crypto'
import { isIP } from 'node:net'
import * as x509 from '@peculiar/x509'
import { claimAuthority } from '../db/control-plane.ts'
import type { Queryable } from '../db/queryable.ts'
import type { SecretBox } from '../secrets.ts'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

type CryptoKey = webcrypto.CryptoKey

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const DAY_MS = 24 * 60 * 60 * 1000
/** The CA outlives every certificate it signs. */
const CA_VALIDITY_DAYS = 20 * 365
/** Instance certificates: 10 years, so an instance never breaks on expiry before rotation exists. */
const SERVER_VALIDITY_DAYS = 10 * 365

/** A server certificate and its key, PEM (the key as PKCS#8, which PostgreSQL/OpenSSL read). */
export interface IssuedCertificate {
  ca_pem: string
  cert_pem: string
  key_pem: string
}

/** Signs the instances' server certificates; loadCertificateAuthority (or, without a database, createInMemoryAuthority) makes one. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: what clients pass as sslrootcert. */
  readonly certificatePem: string
  /**
   * A fresh ECDSA P-256 key and a certificate for a server known by `names`
   * (subjectAltName: every DNS name, and each `ip` entry that is an IPv4 or
   * IPv6 address; others are dropped), for serverAuth, valid from a day ago
   * until 3650 days from now. `commonName` becomes the subject's CN, with , = + < > # ; "
   * and \ replaced by '-' (RFC 4514 specials). Never touches the database.
   */
  issueServerCertificate (names: { dns: string[], ip: string[] }, commonName: string): Promise<IssuedCertificate>
}

const pem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`

const derOf = (text: string): Buffer => Buffer.from(text.replace(/-----[^-]+-----|\s/g, ''), 'base64')

function serialNumber (): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = bytes[0]! & 0x7f // a positive INTEGER
  return Buffer.from(bytes).toString('hex')
}

async function createAuthority (controlPlaneId: string): Promise<{ certificatePem: string, keyPem: string }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Toygres CA ${controlPlaneId}, O=Toygres`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    keys: keys as webcrypto.CryptoKeyPair,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey)
    ]
  })
  return { certificatePem: cert.toString('pem'), keyPem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)) }
}

/**
 * The control plane's CA: the stored one, or a new one stored by the first
 * replica to boot (a concurrent boot's is discarded, so all agree).
 */
export async function loadCertificateAuthority (db: Queryable, secrets: SecretBox, controlPlaneId: string): Promise<CertificateAuthority> {
  const fresh = await createAuthority(controlPlaneId)
  const stored = await claimAuthority(db, { certificate_pem: fresh.certificatePem, private_key_ciphertext: secrets.encrypt(fresh.keyPem) })
  return authorityFrom(stored.certificate_pem, secrets.decrypt(stored.private_key_ciphertext))
}

/** A CA kept only in memory, for tests and benchmarks that have no control-plane database. */
export async function createInMemoryAuthority (controlPlaneId: string): Promise<CertificateAuthority> {
  const fresh = await createAuthority(controlPlaneId)
  return authorityFrom(fresh.certificatePem, fresh.keyPem)
}

async function authorityFrom (certificatePem: string, keyPem: string): Promise<CertificateAuthority> {
  const caCert = new x509.X509Certificate(certificatePem)
  const caKey = await webcrypto.subtle.importKey('pkcs8', derOf(keyPem), ALGORITHM, false, ['sign'])
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caCert, false)

  return {
    certificatePem,
    async issueServerCertificate (names, commonName) {
      const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])
      const now = Date.now()
      const altNames: x509.JsonGeneralName[] = [
        ...names.dns.map(value => ({ type: 'dns' as const, value })),
        ...names.ip.filter(ip => isIP(ip) !== 0).map(value => ({ type: 'ip' as const, value }))
      ]
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serialNumber(),
        subject: `CN=${commonName.replace(/[,=+<>#;"\\]/g, '-')}`,
        issuer: caCert.subject,
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + SERVER_VALIDITY_DAYS * DAY_MS),
        publicKey: keys.publicKey as CryptoKey,
        signingKey: caKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(altNames),
          authorityKeyId
        ]
      })
      return {
        ca_pem: certificatePem,
        cert_pem: cert.toString('pem'),
        key_pem: pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as CryptoKey))
      }
    }
  }
}
