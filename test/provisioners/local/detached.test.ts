// Instances must outlive the control plane that started them, even when it
// is killed together with its whole process group (as Ctrl-C would).
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { testConnection } from '../../../src/activities/test-connection.ts'
import { isAlive, livePid } from '../../../src/provisioners/local/server.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { harness, never, secretPassword, testTls, INSTANCE_ID } from './fixtures/helpers.ts'

const script = join(import.meta.dirname, 'fixtures', 'create-instances.ts')

t.test('a server started by a control plane that is then killed keeps running', async t => {
  const h = await harness(t, 27200)
  const password = secretPassword()
  const child = spawn(process.execPath, [script, h.dataDir, String(h.ports.portMin), String(h.ports.portMax), 'linger', 'orphan'], {
    detached: true, // its own process group, so the test can kill the group
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TOYGRES_TEST_PASSWORD: password, TOYGRES_TEST_TLS: JSON.stringify(testTls) }
  })
  const [line] = await once(createInterface({ input: child.stdout }), 'line') as [string]
  const [created] = JSON.parse(line) as Array<{ connection_string: string }>
  const exited = once(child, 'exit')
  process.kill(-child.pid!, 'SIGKILL')
  await exited

  const pgdata = join(h.dataDir, 'instances', 'toygres', 'orphan', 'pgdata')
  const pid = await livePid(pgdata)
  t.ok(pid, 'the postmaster survived its creator')
  const { version } = await testConnection({ connection_string: created!.connection_string, password, ca_pem: testTls.ca_pem, timeout_seconds: 10 }, never.signal)
  t.match(version, /^PostgreSQL 18/)

  // The next control plane takes over: health monitoring's restart, then delete.
  t.equal(await h.provisioner.recoverPostgres({ namespace: 'toygres', instance_name: 'orphan', instance_id: INSTANCE_ID }, never), false, 'nothing to restart while it runs')
  process.kill(pid!, 'SIGKILL')
  // A signal is delivered asynchronously: wait until the kernel says it is dead.
  await pollUntil(async () => isAlive(pid!), alive => !alive, { what: 'the killed postmaster to die', timeoutMs: 10_000, intervalMs: 10 })
  t.equal(await h.provisioner.recoverPostgres({ namespace: 'toygres', instance_name: 'orphan', instance_id: INSTANCE_ID }, never), true, 'restarted after a crash')
  await h.provisioner.waitForReady({ namespace: 'toygres', instance_name: 'orphan', instance_id: INSTANCE_ID, timeout_seconds: 60 }, never)
  t.match((await testConnection({ connection_string: created!.connection_string, password, ca_pem: testTls.ca_pem }, never.signal)).version, /^PostgreSQL 18/)
  const restartedPid = await livePid(pgdata)
  t.same(await h.provisioner.deletePostgres({ namespace: 'toygres', instance_name: 'orphan', instance_id: INSTANCE_ID, timeout_seconds: 60 }, never), { deleted: true })
  t.notOk(isAlive(restartedPid!), 'stopped by delete')
  t.equal(await h.provisioner.recoverPostgres({ namespace: 'toygres', instance_name: 'orphan', instance_id: INSTANCE_ID }, never), false, 'nothing to restart once deleted')
})

t.test('concurrent creates in several processes get distinct ports and one template', async t => {
  const h = await harness(t, 27250, 27299)
  const password = secretPassword()
  const run = (names: string[]): Promise<Array<{ name: string, connection_string: string }>> => {
    const child = spawn(process.execPath, [script, h.dataDir, String(h.ports.portMin), String(h.ports.portMax), 'exit', ...names], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TOYGRES_TEST_PASSWORD: password, TOYGRES_TEST_TLS: JSON.stringify(testTls) }
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
    return once(child, 'exit').then(([code]) => {
      if (code !== 0) throw new Error(`child exited with ${code}`)
      return JSON.parse(out)
    })
  }
  // Two processes, three instances each, all racing for the first template and for ports.
  const results = (await Promise.all([run(['c1', 'c2', 'c3']), run(['c4', 'c5', 'c6'])])).flat()
  const ports = results.map(r => Number(new URL(r.connection_string).port))
  t.equal(new Set(ports).size, 6, `six distinct ports: ${ports.join(', ')}`)
  for (const r of results) {
    t.match((await testConnection({ connection_string: r.connection_string, password, ca_pem: testTls.ca_pem }, never.signal)).version, /^PostgreSQL 18/, `${r.name} answers`)
  }
  const { readdir } = await import('node:fs/promises')
  t.same(await readdir(join(h.dataDir, 'templates')), ['pg18', 'pg18-spares'], 'one template, no build leftovers')
  t.match(await readdir(join(h.dataDir, 'templates', 'pg18-spares')), [/^spare-[0-9a-f]{8}$/], 'one spare copy made ahead')
  t.equal((await readdir(join(h.dataDir, 'ports'))).length, 6, 'one reservation per instance')
})
