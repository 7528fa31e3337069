// The image's file tree, built the way the Dockerfile builds it (npm ci
// --omit=dev, then the copied paths), runs the control plane with
// NODE_ENV=production, as the image's non-root user, on a root filesystem
// it cannot write to: no dev dependency is needed at run time, and nothing
// is written anywhere (the pods are readOnlyRootFilesystem with no
// writable volume). It provisions through the fake cluster as a worker
// replica does, and its HEALTHCHECK passes.
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startFakeKubeApi } from '../fakes/kube-api/index.ts'
import { createTestDatabase } from '../helpers/db.ts'
import { pollUntil } from '../helpers/poll.ts'
import { freePort } from '../helpers/ports.ts'
import { build } from './dockerfile.ts'
import { uninstrumented } from './uninstrumented.ts'

const CONTEXT = fileURLToPath(new URL('../..', import.meta.url))

t.setTimeout(600_000)

/** Files (not directories) under `dirs` owned by `uid`. */
async function ownedBy (uid: number, dirs: string[]): Promise<Set<string>> {
  const found = new Set<string>()
  for (const dir of dirs) {
    for (const entry of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
      const path = join(dir, entry)
      const s = await stat(path).catch(() => null)
      if (s?.uid === uid) found.add(path)
    }
  }
  return found
}

/**
 * The modules reachable from `entries` (relative imports followed, static
 * and dynamic; `import type` is erased at run time and not followed), and
 * the packages they import.
 */
async function moduleGraph (entries: string[]): Promise<{ files: string[], packages: string[] }> {
  const files = new Set<string>()
  const packages = new Set<string>()
  const queue = [...entries]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (files.has(file)) continue
    files.add(file)
    const code = await readFile(file, 'utf8')
    const specs = [
      ...[...code.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^'"]*?\bfrom\s+'([^']+)'/gm)].map(m => m[1]!),
      ...[...code.matchAll(/^\s*import\s+'([^']+)'/gm)].map(m => m[1]!),
      ...[...code.matchAll(/\bimport\('([^']+)'\)/g)].map(m => m[1]!)
    ]
    for (const spec of specs) {
      if (spec.startsWith('.')) queue.push(join(dirname(file), spec))
      else if (!spec.startsWith('node:')) packages.add(spec)
    }
  }
  return { files: [...files], packages: [...packages].sort() }
}

/** The package a specifier names: `@scope/name` or `name`. */
const packageOf = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')

t.test('the image tree runs the control plane in production, read-only, without dev dependencies', { timeout: 580_000 }, async t => {
  const scratch = await mkdtemp(join(tmpdir(), 'toygres-image-'))
  await chmod(scratch, 0o755)
  t.teardown(() => rm(scratch, { recursive: true, force: true }))
  const started = Date.now()
  const { final } = await build(CONTEXT, scratch)
  t.comment(`image tree built in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const app = join(final.root, final.workdir)
  const pkg = JSON.parse(await readFile(join(CONTEXT, 'package.json'), 'utf8'))

  // What is in it: what npm ci --omit=dev installs, and no package the lockfile marks dev-only.
  const lock = JSON.parse(await readFile(join(CONTEXT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
  const present = async (path: string): Promise<boolean> => (await stat(join(app, path)).catch(() => null)) !== null
  const devOnly = Object.entries(lock.packages).filter(([path, p]) => path.startsWith('node_modules/') && p.dev).map(([path]) => path)
  const leaked: string[] = []
  for (const path of devOnly) if (await present(path)) leaked.push(path)
  t.same(leaked, [], `none of the ${devOnly.length} dev-only packages is in the image`)
  for (const dep of Object.keys(pkg.dependencies)) t.ok(await present(join('node_modules', dep)), `dependency ${dep}`)

  // What the image runs (its CMD, and npm run migrate) imports only production dependencies, and each resolves there.
  const graph = await moduleGraph([join(app, 'src', 'server.ts'), join(app, 'src', 'cli', 'migrate.ts')])
  t.ok(graph.files.length > 50, `${graph.files.length} modules reachable from the entry points`)
  t.same(graph.packages.map(packageOf).filter(p => !(p in pkg.dependencies)), [], `the ${graph.packages.length} packages they import are all dependencies, none a devDependency`)
  const resolveScript = join(app, '.resolve-check.mjs')
  await writeFile(resolveScript, `for (const s of ${JSON.stringify(graph.packages)}) import.meta.resolve(s)\n`)
  const resolved = spawnSync(process.execPath, [resolveScript], { cwd: app, encoding: 'utf8' })
  await rm(resolveScript)
  t.equal(resolved.status, 0, `each resolves in the image: ${resolved.stderr}`)

  // The user and the command, as the image has them.
  const [uid, gid] = final.user!.split(':').map(Number) as [number, number]
  t.ok(Number.isInteger(uid) && uid > 0, `a numeric non-root USER (${final.user})`)
  t.same(final.cmd, ['node', 'src/server.ts'])
  t.equal(final.env.NODE_ENV, 'production')

  // Its world: a database, a cluster (a worker replica's rights), nothing writable.
  const kube = await startFakeKubeApi({ realPostgres: true, nodes: [{ name: 'node-1', region: 'westeurope' }], namespaces: ['toygres'] })
  t.teardown(() => kube.close())
  const kubeconfig = join(scratch, 'kubeconfig')
  await copyFile(kube.kubeconfigPath, kubeconfig)
  await chmod(kubeconfig, 0o644)
  const token = randomBytes(24).toString('hex')
  const port = await freePort()
  const env = {
    PATH: process.env.PATH ?? '',
    ...final.env,
    HOME: join(final.root, 'home', 'node'),
    // The image's paths, on this machine.
    TOYGRES_DATA_DIR: join(final.root, final.env.TOYGRES_DATA_DIR!),
    PORT: String(port),
    DATABASE_URL: await createTestDatabase(t),
    TOYGRES_API_TOKEN: token,
    TOYGRES_SECRET_KEY: randomBytes(32).toString('hex'),
    TOYGRES_PROVISIONER: 'kubernetes',
    KUBECONFIG: kubeconfig,
    TOYGRES_WORKER_CONCURRENCY: '2',
    LOG_LEVEL: 'warn'
  }
  const watched = [final.root, scratch, tmpdir(), '/var/tmp', '/dev/shm']
  const before = await ownedBy(uid, watched)
  const [node, ...args] = final.cmd!
  t.equal(node, 'node')
  // The image's node comes with its base image, outside the app; here, a copy the image's user can reach
  // (this clone's pinned Node may sit in a directory only root can enter, such as root's home).
  const nodeBin = join(scratch, 'node')
  await copyFile(process.execPath, nodeBin)
  await chmod(nodeBin, 0o755)
  let output = ''
  const server = spawn(...uninstrumented(nodeBin, args), { cwd: app, env, uid, gid, stdio: ['ignore', 'pipe', 'pipe'] })
  server.stdout.on('data', d => { output += d })
  server.stderr.on('data', d => { output += d })
  const exited = new Promise<number | string>(resolve => server.on('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  t.teardown(() => { if (server.exitCode === null) server.kill('SIGKILL') })
  const base = `http://127.0.0.1:${port}`
  const auth = { authorization: `Bearer ${token}` }
  const get = async (path: string, headers: Record<string, string> = auth): Promise<{ status: number, json: any }> => {
    const res = await fetch(base + path, { headers })
    return { status: res.status, json: await res.json().catch(() => null) }
  }

  try {
    await pollUntil(async () => {
      if (server.exitCode !== null) throw new Error(`the server exited:\n${output}`)
      return (await get('/readyz', {}).catch(() => ({ status: 0 }))).status
    }, s => s === 200, { what: '/readyz', timeoutMs: 60_000 })
    // Not spawnSync: the fake cluster /readyz asks lives in this process's event loop.
    const check = spawn(...uninstrumented(nodeBin, final.healthcheck!.slice(1)), { env, uid, gid, stdio: 'ignore' })
    t.equal(await new Promise(resolve => check.on('exit', resolve)), 0, 'the HEALTHCHECK passes')
    t.equal(final.healthcheck![0], 'node')
    t.equal((await fetch(`${base}/docs/`)).status, 200, 'Swagger UI is served')
    t.equal((await get('/metrics')).status, 200)
    t.equal((await get('/instances', {})).status, 401, 'the API wants its token')

    // A whole life through the Kubernetes provisioner: every module a worker needs, in production mode.
    const created = await fetch(`${base}/instances`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'image-db', postgres_version: '17' }) })
    t.equal(created.status, 202, await created.clone().text())
    const running = await pollUntil(async () => (await get('/instances/image-db')).json, (i: any) => i.state !== 'creating', { what: 'running', timeoutMs: 120_000 })
    t.equal(running.state, 'running', JSON.stringify(running.error))
    t.equal((await fetch(`${base}/instances/image-db`, { method: 'DELETE', headers: auth })).status, 202)
    await pollUntil(async () => (await get('/instances/image-db')).status, s => s === 404, { what: 'deleted', timeoutMs: 90_000 })
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024
    t.comment(`resident memory after a create and a delete (kubernetes provisioner, production): ${rss.toFixed(0)} MiB`)
    server.kill('SIGTERM')
    t.equal(await exited, 0, 'it stops cleanly on SIGTERM')
  } catch (err) {
    t.comment(output)
    throw err
  }
  const written = [...await ownedBy(uid, watched)].filter(p => !before.has(p)).map(p => relative('/', p))
  t.same(written, [], 'it wrote no file: a read-only root filesystem and no writable volume are enough')
  t.notOk(/warn|error/i.test(output.replace(/"level":(30|20)/g, '')), `no warning or error in its log:\n${output}`)
})
