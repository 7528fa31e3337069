// A PostgreSQL server for the health benchmark's probes to hit, set up the
// way the local provisioner sets up an instance, so each probe runs the
// product's path end to end: TLS with a server certificate issued by the
// control plane's CA (`authority.issueServerCertificate`, written by the
// provisioner's writeTls), the provisioner's postgresql.conf lines
// (INSTANCE_SETTINGS: ssl = on ...) and pg_hba.conf (hbaFile: scram-sha-256
// from loopback), and the `postgres` role's password stored as a SCRAM
// verifier. Its connection string is the one the local provisioner stores
// (`postgresql://postgres@127.0.0.1:<port>/postgres?sslmode=require`, which
// src/postgres/client.ts verifies as libpq's verify-ca against the CA). A
// throwaway cluster like test/helpers/throwaway-cluster.ts: its own temporary
// directory and port, run as the `postgres` OS user when we are root, removed
// by stop().
//
// startTlsTarget() checks before it returns that a login really does TLS
// (pg_stat_ssl) and SCRAM (the stored secret), and that a wrong password and
// a certificate from another CA are refused: a benchmark against a server
// that quietly fell back to plain text or trust would measure the wrong thing.
import { randomBytes } from 'node:crypto'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseTarget, queryOnce, withSession } from '../../src/postgres/client.ts'
import { findBinaries, postgresRunAs } from '../../src/postgres/binaries.ts'
import { configureCluster, initCluster, startCluster, stopCluster, postmasterPid } from '../../src/postgres/cluster.ts'
import { hbaFile } from '../../src/provisioners/local/network.ts'
import { INSTANCE_SETTINGS } from '../../src/provisioners/local/settings.ts'
import { writeOwnedFile, writeTls } from '../../src/provisioners/local/tls.ts'
import { createInMemoryAuthority, type CertificateAuthority } from '../../src/tls/authority.ts'
import { freePort } from '../../test/helpers/ports.ts'

export interface TlsTarget {
  readonly host: string
  readonly port: number
  /** The `postgres` role's password (SCRAM-SHA-256 on the server). */
  readonly password: string
  /** What the local provisioner stores as ip_connection_string: sslmode=require, no password. */
  readonly connectionString: string
  /** The same for another port (a proxy in front of this server). */
  connectionStringAt (port: number): string
  /** What the startup checks saw: TLS version and cipher of a probe's login, how the password is stored. */
  readonly checked: { tls_version: string, cipher: string, password_stored_as: string }
  /**
   * CPU seconds (user + system) the server has used so far: the postmaster's
   * own and its reaped children's (every backend a probe starts; /proc's
   * cutime/cstime), in clock ticks of 10 ms.
   */
  cpuSeconds (): Promise<number>
  stop (): Promise<void>
}

const CLK_TCK = 100

export async function startTlsTarget (opts: { authority: CertificateAuthority, maxConnections: number }): Promise<TlsTarget> {
  const dir = await mkdtemp(join(tmpdir(), 'toygres-bench-tls-'))
  await chmod(dir, 0o755) // the postgres OS user must be able to enter it
  const runAs = postgresRunAs()
  const cluster = { binaries: findBinaries(), runAs, dataDir: join(dir, 'pgdata') }
  const password = randomBytes(18).toString('base64url')
  const host = '127.0.0.1'
  let started = false
  try {
    const port = await freePort()
    // initdb --pwfile with --auth-host scram-sha-256: PostgreSQL hashes the password as a SCRAM verifier (password_encryption's default).
    await initCluster(cluster, password, ['--no-sync'])
    const tls = await opts.authority.issueServerCertificate({ dns: ['localhost'], ip: [host] }, 'toygres-bench-tls-target')
    await writeTls(cluster.dataDir, join(dir, 'root.crt'), tls, runAs)
    await writeOwnedFile(join(cluster.dataDir, 'pg_hba.conf'), hbaFile(null, tls.cert_pem), 0o600, runAs)
    await configureCluster(cluster, { port, host }, [...INSTANCE_SETTINGS, `max_connections = ${opts.maxConnections}`])
    await startCluster(cluster)
    started = true

    const connectionStringAt = (p: number): string => `postgresql://postgres@${host}:${p}/postgres?sslmode=require`
    const connectionString = connectionStringAt(port)
    const login = { signal: AbortSignal.timeout(10_000), applicationName: 'toygres-bench-check', caPem: opts.authority.certificatePem }
    const [seen] = await withSession(parseTarget(connectionString), password, login, async c => (await c.query<{ ssl: boolean, version: string, cipher: string, secret: string }>(
      `SELECT s.ssl, s.version, s.cipher, left(a.rolpassword, 14) AS secret
       FROM pg_stat_ssl s, pg_authid a WHERE s.pid = pg_backend_pid() AND a.rolname = current_user`)).rows)
    if (!seen?.ssl) throw new Error('the TLS target let a login in without TLS')
    if (seen.secret !== 'SCRAM-SHA-256$') throw new Error(`the TLS target stores the password as ${seen.secret}..., not a SCRAM verifier`)
    const wrong = await queryOnce(parseTarget(connectionString), `${password}-wrong`, 'SELECT 1', login).then(() => null, (e: { code?: string }) => e.code)
    if (wrong !== '28P01') throw new Error(`the TLS target did not refuse a wrong password (got ${wrong ?? 'a login'})`)
    const stranger = await createInMemoryAuthority('bench-stranger')
    const unverified = await queryOnce(parseTarget(connectionString), password, 'SELECT 1', { ...login, caPem: stranger.certificatePem }).then(() => null, (e: Error) => e.message)
    if (unverified === null) throw new Error('the probe accepted the TLS target\'s certificate against another CA')

    return {
      host,
      port,
      password,
      connectionString,
      connectionStringAt,
      checked: { tls_version: seen.version, cipher: seen.cipher, password_stored_as: 'SCRAM-SHA-256' },
      async cpuSeconds () {
        const pid = await postmasterPid(cluster.dataDir)
        // Fields after the command's closing parenthesis: utime is the 14th field of the line, so the 12th after it.
        const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ')
        return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / CLK_TCK
      },
      async stop () {
        await stopCluster(cluster, 'immediate')
        await rm(dir, { recursive: true, force: true })
      }
    }
  } catch (err) {
    if (started) await stopCluster(cluster, 'immediate').catch(() => {})
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
