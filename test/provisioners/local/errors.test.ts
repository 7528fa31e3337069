// Permanent failures fail the step at once (retryable false) and say what to
// do; transient ones stay retryable, and a short one is ridden out.
import t from 'tap'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createLocalProvisioner } from '../../../src/provisioners/local/index.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { capturingLogger, deployInput, harness, never, pgdataOf, refOf, secretPassword, tempDataDir } from './fixtures/helpers.ts'

const run = promisify(execFile)

t.test('a full disk (ENOSPC) is permanent, and leaves nothing half-made', async t => {
  const dir = await tempDataDir(t)
  const mountpoint = join(dir, 'small')
  await mkdir(mountpoint, { mode: 0o755 })
  // A real small filesystem: initdb runs out of space building the template.
  const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', mountpoint]).then(() => true, () => false)
  if (!mounted) return t.plan(0, 'cannot mount a small tmpfs here')
  t.teardown(() => run('umount', [mountpoint]))
  const provisioner = createLocalProvisioner({ dataDir: mountpoint, portMin: 27880, portMax: 27889, logger: capturingLogger().logger, controlPlaneId: 'test-plane' })
  t.teardown(() => provisioner.close())
  const err = await provisioner.deployPostgres(deployInput('full', secretPassword()), never).catch(e => e)
  t.match(err, {
    name: 'PermanentProvisionerError',
    retryable: false,
    message: `no space left on the disk holding ${mountpoint} (ENOSPC): free some space, then run the operation again`
  })
  t.same(await readdir(join(mountpoint, 'templates')), [], 'the unfinished template was removed')
  t.same(await readdir(join(mountpoint, 'instances', 'toygres', 'full')), ['instance.json'], 'the claim stands, so a retry after freeing space converges')
})

t.test('a port taken for a moment is ridden out; one that stays taken fails, retryable', async t => {
  const h = await harness(t, 27890, 27899)
  const ref = refOf('squat')
  await h.provisioner.deployPostgres(deployInput('squat', secretPassword()), never)
  const { ip_connection_string: url } = await h.provisioner.getConnectionStrings({ ...ref, use_load_balancer: false, dns_label: null, timeout_seconds: 10 }, never)
  const port = Number(new URL(url).port)
  await h.provisioner.stopPostgres({ ...ref, timeout_seconds: 30 }, never)
  const log = join(pgdataOf(h.dataDir, 'squat'), 'server.log')
  const binds = async (): Promise<number> => (await readFile(log, 'utf8')).split('could not bind').length - 1
  const before = await binds()

  const squatter = createServer()
  squatter.listen(port, '127.0.0.1')
  await once(squatter, 'listening')
  const starting = h.provisioner.startPostgres({ ...ref, timeout_seconds: 30 }, never)
  // Someone else held the port; once PostgreSQL has failed to bind it, they let go.
  await pollUntil(binds, n => n > before, { what: 'a start attempt that found the port taken', timeoutMs: 20_000, intervalMs: 20 })
  await new Promise(resolve => squatter.close(resolve))
  t.match(await starting, { changed: true, detail: /^started postmaster \d+$/ }, 'the start retried and succeeded')

  await h.provisioner.stopPostgres({ ...ref, timeout_seconds: 30 }, never)
  const holder = createServer()
  holder.listen(port, '127.0.0.1')
  await once(holder, 'listening')
  t.teardown(() => new Promise(resolve => holder.close(resolve)))
  const err = await h.provisioner.startPostgres({ ...ref, timeout_seconds: 2 }, never).catch(e => e)
  t.match(err.message, /Address already in use/)
  t.not(err.retryable, false, 'still retryable: the port may be free on the next attempt')
  t.not(err.name, 'PermanentProvisionerError')
})

t.test('a server that cannot start says why at once, not at the deadline', async t => {
  const h = await harness(t, 27875, 27879)
  const ref = refOf('broken')
  await h.provisioner.deployPostgres(deployInput('broken', secretPassword()), never)
  await h.provisioner.stopPostgres({ ...ref, timeout_seconds: 30 }, never)
  await appendFile(join(pgdataOf(h.dataDir, 'broken'), 'postgresql.conf'), 'shared_buffers = lots\n')
  const started = Date.now()
  const err = await h.provisioner.startPostgres({ ...ref, timeout_seconds: 60 }, never).catch(e => e)
  t.match(err.message, /did not start: .*invalid value for parameter "shared_buffers": "lots"/)
  t.ok(Date.now() - started < 20_000, `reported after ${Date.now() - started} ms of a 60 s deadline`)
})
