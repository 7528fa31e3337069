// Every local instance serves TLS with the certificate the control plane's
// CA issued for it: psql verifies it (verify-full, by address and by name),
// a certificate from another CA is refused, plain TCP stays open on
// loopback, and a redeploy never breaks what works.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { postgresRunAs } from '../../../src/postgres/binaries.ts'
import { livePid } from '../../../src/provisioners/local/server.ts'
import { createInMemoryAuthority } from '../../../src/tls/authority.ts'
import { deployInput, harness, never, pgdataOf, refOf, secretPassword, testTls } from './fixtures/helpers.ts'

const run = promisify(execFile)

/** psql with `conninfo`; resolves with its output or rejects with its error text. */
async function psql (conninfo: string, password: string): Promise<string> {
  try {
    const { stdout } = await run('psql', [conninfo, '--no-psqlrc', '--tuples-only', '--no-align', '--command', 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'], {
      env: { PATH: process.env.PATH, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10' }
    })
    return stdout.trim()
  } catch (err) {
    throw new Error((err as { stderr?: string }).stderr?.trim() || (err as Error).message)
  }
}

t.test('psql verifies the server against the CA (verify-full), plain TCP stays open on loopback', async t => {
  const h = await harness(t, 27640, 27649)
  const password = secretPassword()
  await h.provisioner.deployPostgres(deployInput('secure', password), never)
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ ...refOf('secure'), use_load_balancer: false, dns_label: null, timeout_seconds: 10 }, never)
  const port = new URL(url).port
  const dir = join(h.dataDir, 'instances', 'toygres', 'secure')
  const rootCert = join(dir, 'root.crt')

  t.equal(await readFile(rootCert, 'utf8'), testTls.ca_pem, 'root.crt beside instance.json is the CA, for sslrootcert')
  const runAs = postgresRunAs()
  for (const file of ['server.key', 'server.crt']) {
    const st = await stat(join(pgdataOf(h.dataDir, 'secure'), file))
    t.equal(st.mode & 0o777, 0o600, `${file} is mode 0600`)
    if (runAs) t.equal(st.uid, runAs.uid, `${file} belongs to the server's OS user`)
  }

  t.equal(await psql(`host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${rootCert}`, password), 't', 'verify-full by address')
  t.equal(await psql(`host=localhost hostaddr=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${rootCert}`, password), 't', 'verify-full by name')
  t.equal(await psql(url, password), 't', 'the connection string as given (sslmode=require)')
  t.equal(await psql(`host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=disable`, password), 'f', 'plain TCP on loopback still works')

  const stranger = await createInMemoryAuthority('another-plane')
  const strangerFile = join(h.dataDir, 'stranger.crt')
  await writeFile(strangerFile, stranger.certificatePem)
  await t.rejects(psql(`host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${strangerFile}`, password), /certificate verify failed/, 'another CA is refused')
})

t.test('a redeploy keeps a certificate from the same CA, and replaces one from another CA without a restart', async t => {
  const h = await harness(t, 27650, 27659)
  const password = secretPassword()
  const pgdata = pgdataOf(h.dataDir, 'renew')
  await h.provisioner.deployPostgres(deployInput('renew', password), never)
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ ...refOf('renew'), use_load_balancer: false, dns_label: null, timeout_seconds: 10 }, never)
  const port = new URL(url).port
  const pid = await livePid(pgdata)
  const certBefore = await readFile(join(pgdata, 'server.crt'), 'utf8')

  // The activity issues a fresh certificate on every call: from the same CA, nothing changes.
  const fresh = await (await createInMemoryAuthority('replacement')).issueServerCertificate({ dns: ['localhost'], ip: ['127.0.0.1'] }, 'renew')
  const sameCa = { ...deployInput('renew', password), tls: { ...testTls } }
  const again = await h.provisioner.deployPostgres(sameCa, never)
  t.ok(again.existing.includes('Certificate/renew'), 'the certificate is kept')
  t.equal(await readFile(join(pgdata, 'server.crt'), 'utf8'), certBefore)
  const rootCert = join(h.dataDir, 'instances', 'toygres', 'renew', 'root.crt')
  t.equal(await psql(`host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${rootCert}`, password), 't', 'still verifies')

  // A new CA (the control plane's was replaced): all three files change, the running server reloads them.
  const newCa = { ...deployInput('renew', password), tls: fresh }
  const replaced = await h.provisioner.deployPostgres(newCa, never)
  t.ok(replaced.created.includes('Certificate/renew'), 'a new certificate')
  t.equal(await readFile(rootCert, 'utf8'), fresh.ca_pem)
  t.equal(await livePid(pgdata), pid, 'same server process: reloaded, not restarted')
  t.equal(await psql(`host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=verify-full sslrootcert=${rootCert}`, password), 't', 'the new CA verifies it')
})

t.test('TLS material PostgreSQL could not use is refused before anything is made', async t => {
  const h = await harness(t, 27660, 27661)
  const other = await (await createInMemoryAuthority('other')).issueServerCertificate({ dns: [], ip: ['127.0.0.1'] }, 'x')
  const cases = {
    'a key that is not the certificate\'s': { ...testTls, key_pem: other.key_pem },
    'a certificate from another CA': { ...testTls, cert_pem: other.cert_pem, key_pem: other.key_pem },
    'not PEM': { ...testTls, cert_pem: 'test-cert' }
  }
  for (const [what, tls] of Object.entries(cases)) {
    await t.rejects(h.provisioner.deployPostgres({ ...deployInput('bad', secretPassword()), tls }, never), { name: 'PermanentProvisionerError', message: /^the instance's TLS material is unusable: / }, what)
  }
  await t.rejects(stat(join(h.dataDir, 'instances')), { code: 'ENOENT' })
})
