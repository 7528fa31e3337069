// Acting on a thing because of its name, without proving it is ours, loses
// data. Directories of the same name without our mark, another control
// plane's live server in our port range, and a postmaster.pid whose pid now
// belongs to an unrelated process must all survive a create, a failed create
// and a delete of that name.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdir, readdir, readFile, readlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { isAlive, livePid } from '../../../src/provisioners/local/server.ts'
import { pollUntil } from '../../helpers/poll.ts'
import { deployInput, harness, never, pgdataOf, refOf, secretPassword, INSTANCE_ID } from './fixtures/helpers.ts'

interface Teardown { teardown (fn: () => unknown): void }

/** An unrelated live process (its pid stands in for one the kernel reused). */
async function unrelatedProcess (t: Teardown): Promise<number> {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' })
  await once(child, 'spawn')
  t.teardown(() => { child.kill('SIGKILL') })
  return child.pid!
}

/** Every file under `dir` with a digest of its bytes. */
async function snapshot (dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    out[path.slice(dir.length)] = entry.isFile() ? createHash('sha256').update(await readFile(path)).digest('hex') : entry.isDirectory() ? 'dir' : 'other'
  }
  return out
}

const ports = async (dataDir: string): Promise<Record<string, string>> => {
  const out: Record<string, string> = {}
  for (const name of await readdir(join(dataDir, 'ports')).catch(() => [] as string[])) out[name] = await readlink(join(dataDir, 'ports', name))
  return out
}

t.test('foreign directories of the same name survive create, failed create and delete', async t => {
  const h = await harness(t, 27600, 27619)
  const sleeper = await unrelatedProcess(t)
  const instances = join(h.dataDir, 'instances', 'toygres')
  await mkdir(instances, { recursive: true })

  // A user's directory; one that looks like an instance of ours without the mark.
  await mkdir(join(instances, 'plain'))
  await writeFile(join(instances, 'plain', 'notes.txt'), 'not Toygres\'s')
  await mkdir(join(instances, 'lookalike', 'pgdata'), { recursive: true })
  await writeFile(join(instances, 'lookalike', 'instance.json'), JSON.stringify({ namespace: 'toygres', instance_name: 'lookalike', port: 27600 }))
  await writeFile(join(instances, 'lookalike', 'pgdata', 'PG_VERSION'), '18\n')
  await writeFile(join(instances, 'lookalike', 'pgdata', 'postmaster.pid'), `${sleeper}\n${join(instances, 'lookalike', 'pgdata')}\n`)
  // Live servers in our port range: another control plane's, and an earlier instance of the same name (another id).
  await h.reopen('another-plane').deployPostgres(deployInput('otherplane', secretPassword()), never)
  const earlierId = '00000000-0000-4000-8000-0000000000ee'
  await h.provisioner.deployPostgres(deployInput('otherinstance', secretPassword(), 'toygres', earlierId), never)
  const livePids = { otherplane: await livePid(pgdataOf(h.dataDir, 'otherplane')), otherinstance: await livePid(pgdataOf(h.dataDir, 'otherinstance')) }
  t.ok(livePids.otherplane && livePids.otherinstance, 'two foreign servers run')

  const names = ['plain', 'lookalike', 'otherplane', 'otherinstance']
  const reasons = {
    plain: 'it has no instance.json',
    lookalike: 'its instance.json carries no Toygres mark',
    otherplane: 'it is marked for control plane another-plane',
    otherinstance: `it is marked for instance ${earlierId}, not ${INSTANCE_ID}`
  }
  const before = Object.fromEntries(await Promise.all(['plain', 'lookalike'].map(async n => [n, await snapshot(join(instances, n))])))
  const reservations = await ports(h.dataDir)

  // A create of another name goes around them (ports taken are skipped).
  const mine = await h.provisioner.deployPostgres(deployInput('mine', secretPassword()), never)
  t.same(mine.created, ['PortReservation/mine', 'DataDirectory/mine', 'Certificate/mine', 'Process/mine'])
  for (const name of names) {
    const err = await h.provisioner.deployPostgres(deployInput(name, secretPassword()), never).catch(e => e)
    t.match(err, {
      name: 'PermanentProvisionerError',
      retryable: false,
      message: `a local instance directory toygres/${name} exists and is not managed by this control plane (${reasons[name as keyof typeof reasons]}); nothing in it was changed: move ${join(instances, name)} away or use another name`
    }, `create of ${name} fails at once`)
    t.same(await h.provisioner.deletePostgres({ ...refOf(name), timeout_seconds: 10 }, never), { deleted: false }, `delete of ${name} removes nothing`)
    t.ok(h.lines.some(l => l.includes(`not deleting local instance directory toygres/${name}: it is not managed by this control plane`)), `a log line says so for ${name}`)
    for (const call of [
      () => h.provisioner.stopPostgres({ ...refOf(name), timeout_seconds: 10 }, never),
      () => h.provisioner.restartPostgres({ ...refOf(name), timeout_seconds: 10 }, never),
      () => h.provisioner.recoverPostgres(refOf(name), never),
      () => h.provisioner.applyNetwork({ ...refOf(name), allowed_cidrs: [] }, never),
      () => h.provisioner.setPassword({ ...refOf(name), password: 'x' }, never)
    ] as Array<() => Promise<unknown>>) await t.rejects(call(), { name: 'PermanentProvisionerError', message: /is not managed by this control plane/ })
  }

  t.same(await snapshot(join(instances, 'plain')), before.plain, 'the user\'s directory is as it was')
  t.same(await snapshot(join(instances, 'lookalike')), before.lookalike, 'the look-alike is as it was')
  t.ok(isAlive(sleeper), 'the process its postmaster.pid names was not signalled')
  t.equal(await livePid(pgdataOf(h.dataDir, 'otherplane')), livePids.otherplane, 'another control plane\'s server runs on')
  t.equal(await livePid(pgdataOf(h.dataDir, 'otherinstance')), livePids.otherinstance, 'the earlier instance\'s server runs on')
  const after = await ports(h.dataDir)
  for (const [port, owner] of Object.entries(reservations)) t.equal(after[port], owner, `reservation ${port} → ${owner} kept`)
  t.equal(JSON.parse(await readFile(join(instances, 'otherplane', 'instance.json'), 'utf8')).control_plane_id, 'another-plane')
})

t.test('a postmaster.pid naming an unrelated live process (pid reuse) is never signalled', async t => {
  const h = await harness(t, 27620, 27629)
  const sleeper = await unrelatedProcess(t)
  const pgdata = pgdataOf(h.dataDir, 'reused')
  const ref = refOf('reused')
  await h.provisioner.deployPostgres(deployInput('reused', secretPassword()), never)

  /** The server crashes, and the kernel hands its pid to `sleep`. */
  async function crashWithReusedPid (): Promise<void> {
    const pid = (await livePid(pgdata))!
    process.kill(pid, 'SIGKILL')
    await pollUntil(async () => isAlive(pid), alive => !alive, { what: 'the killed postmaster to die', timeoutMs: 10_000, intervalMs: 10 })
    const lock = await readFile(join(pgdata, 'postmaster.pid'), 'utf8')
    await writeFile(join(pgdata, 'postmaster.pid'), lock.replace(/^\d+/, String(sleeper)))
    t.equal(await livePid(pgdata), undefined, 'the pid is alive but not a server of this data directory')
  }

  await crashWithReusedPid()
  t.equal(await h.provisioner.recoverPostgres(ref, never), true, 'recover starts a new server')
  t.not(await livePid(pgdata), undefined)

  await crashWithReusedPid()
  t.same((await h.provisioner.deployPostgres(deployInput('reused', secretPassword()), never)).created, ['Process/reused'], 'deploy starts a new server')

  await crashWithReusedPid()
  t.match(await h.provisioner.stopPostgres({ ...ref, timeout_seconds: 10 }, never), { detail: /^already stopped/ }, 'stop finds nothing to stop')
  await h.provisioner.startPostgres({ ...ref, timeout_seconds: 30 }, never)

  await crashWithReusedPid()
  t.same(await h.provisioner.deletePostgres({ ...ref, timeout_seconds: 10 }, never), { deleted: true })
  t.ok(isAlive(sleeper), 'the unrelated process survived all of it')
})
