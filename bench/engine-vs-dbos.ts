// npx node bench/engine-vs-dbos.ts [flags]   (Node 24; npm run bench:engine is its other half)
//
// Our engine next to DBOS Transact in the same run, on the same PostgreSQL
// server: the peer (shared/peers/dbos-bench.mjs: N workflows of 4 no-op
// steps through C concurrent callers) runs right before and right after
// `bench:engine` with the same --n and --c, each peer run against a fresh
// database of its own. The headline is the ratio of our orchestrations/s to
// DBOS's workflows/s (the mean of its two runs) in the peer's own shape: C
// callers, each starting one and awaiting its result. Our queue drain (C
// slots working off N starts made at once, the starts timed too) is printed
// beside it, as a second ratio, and a backlog (N queued before the workers
// start, worked off by C slots: the dispatch alone) as a third: different
// shapes. The machine is shared and
// noisy: compare the ratio, not the absolute numbers.
//
// DBOS is never installed into this project: the peer runs in a scratch
// folder outside the repository, set up once with
//   npm init -y && npm pkg set type=module && npm install @dbos-inc/dbos-sdk@5
// and reused by later runs (delete it to start over). The peer script is
// copied into it, so its import resolves there.
//
// Needs DATABASE_URL or TEST_DATABASE_URL (the server both run on).
//
// Flags:
//   --n <ops>          workflows / orchestrations per throughput run (default 2000)
//   --c <n>            concurrent callers (DBOS) / worker slots (ours) (default 8)
//   --scratch <dir>    the peer's scratch folder (default <tmpdir>/toygres-dbos-peer)
//   --peer <file>      the peer script (default: shared/peers/dbos-bench.mjs beside
//                      the main checkout, i.e. ../shared/peers from it)
//   --help             this text
//
// Last line: one JSON object with both sides' figures and the ratios.
import { execFileSync, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { createDatabase } from '../test/helpers/db.ts'
import { cli, load, num, round, table } from './lib/cli.ts'

const repo = resolve(import.meta.dirname, '..')
function defaultPeer (): string {
  // The main checkout holds the git directory; shared/ sits beside it (worktrees live elsewhere).
  const common = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: repo, encoding: 'utf8' }).trim()
  return resolve(dirname(common), '..', 'shared', 'peers', 'dbos-bench.mjs')
}

const args = cli(import.meta.filename, {
  n: { type: 'string', default: '2000' },
  c: { type: 'string', default: '8' },
  scratch: { type: 'string', default: join(tmpdir(), 'toygres-dbos-peer') },
  peer: { type: 'string' }
})
const N = num(args.n, 'n')
const C = num(args.c, 'c')
const scratch = resolve(args.scratch!)
const peer = resolve(args.peer ?? defaultPeer())
const admin = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL
if (!admin) throw new Error('set DATABASE_URL or TEST_DATABASE_URL: DBOS and the engine must run on the same server')
if (!relative(repo, scratch).startsWith('..')) throw new Error(`the scratch folder ${scratch} is inside the repository: DBOS must stay out of the project`)
if (!existsSync(peer)) throw new Error(`no peer script at ${peer} (use --peer)`)

function run (cmd: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const child = spawn(cmd, argv, { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); process.stderr.write(d) })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', code => code === 0 ? resolve(out) : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}`)))
  })
}
const lastJson = <T>(out: string): T => JSON.parse(out.trim().split('\n').filter(l => l.startsWith('{')).at(-1)!) as T

// The scratch folder, outside the repository, set up once.
if (!existsSync(join(scratch, 'node_modules', '@dbos-inc', 'dbos-sdk'))) {
  mkdirSync(scratch, { recursive: true })
  process.stderr.write(`setting up the DBOS peer in ${scratch}\n`)
  await run('npm', ['init', '-y'], scratch)
  await run('npm', ['pkg', 'set', 'type=module'], scratch)
  await run('npm', ['install', '--no-audit', '--no-fund', '@dbos-inc/dbos-sdk@5'], scratch)
}
copyFileSync(peer, join(scratch, 'dbos-bench.mjs'))
const dbosVersion = (JSON.parse(readFileSync(join(scratch, 'node_modules', '@dbos-inc', 'dbos-sdk', 'package.json'), 'utf8')) as { version: string }).version

interface Dbos { workflows_per_s: number, step_overhead_p50_ms: number, workflow4_p50_ms: number, workflow0_p50_ms: number, queued_workflow4_p50_ms: number }
interface Ours {
  keys: number
  orchestrationsPerSecond: number
  sharedKeysOrchestrationsPerSecond: number
  backlogOrchestrationsPerSecond: number
  callers: { orchestrationsPerSecond: number, sharedKeysOrchestrationsPerSecond: number, eagerShare: number }
  stepOverheadMs: { p50: number }
  startToFirstStepMs: { p50: number }
  baselines: { pgBossNoopJobsPerSecond: number }
}

async function dbos (): Promise<Dbos> {
  const db = await createDatabase(admin!, 'peer_dbos')
  try {
    return lastJson<Dbos>(await run(process.execPath, ['dbos-bench.mjs', db.url, String(N), String(C)], scratch))
  } finally {
    await db.drop()
  }
}

const loadBefore = load()
const before = await dbos()
const ours = lastJson<Ours>(await run(process.execPath, [join(repo, 'bench', 'engine.ts'), '--n', String(N), '--c', String(C)], repo))
const after = await dbos()
const loadAfter = load()

const dbosRate = (before.workflows_per_s + after.workflows_per_s) / 2
const dbosStep = (before.step_overhead_p50_ms + after.step_overhead_p50_ms) / 2
// The peer's shape is C callers, each starting a workflow and awaiting it:
// our callers phase is that shape; our queue drain (C slots working off N
// starts made at once) is a second comparison, of a different shape.
const ratio = round(ours.callers.orchestrationsPerSecond / dbosRate, 2)
const drainRatio = round(ours.orchestrationsPerSecond / dbosRate, 2)
const backlogRatio = round(ours.backlogOrchestrationsPerSecond / dbosRate, 2)
process.stdout.write(`\nbench:engine:dbos — n=${N}, c=${C}, DBOS ${dbosVersion} in ${scratch}; load average ${loadBefore.join(' ')} → ${loadAfter.join(' ')}\n`)
process.stdout.write(table(['figure', 'ours', 'DBOS before', 'DBOS after'], [
  [`workflows (4 no-op steps) per second, ${C} callers each awaiting its own`, ours.callers.orchestrationsPerSecond, before.workflows_per_s, after.workflows_per_s],
  [`  ours with ${C} callers over ${ours.keys} shared keys`, ours.callers.sharedKeysOrchestrationsPerSecond, '-', '-'],
  [`ours: queue drain, ${N} started at once, ${C} slots (distinct / shared keys)`, `${ours.orchestrationsPerSecond} / ${ours.sharedKeysOrchestrationsPerSecond}`, '-', '-'],
  [`ours: a backlog of ${N} queued before the workers start, ${C} slots (starts not timed)`, ours.backlogOrchestrationsPerSecond, '-', '-'],
  ['step overhead p50, ms', ours.stepOverheadMs.p50, before.step_overhead_p50_ms, after.step_overhead_p50_ms],
  ['ours: start() → first step p50, ms', ours.startToFirstStepMs.p50, '-', '-'],
  ['DBOS: enqueue → queued workflow done p50, ms (1 s polling)', '-', before.queued_workflow4_p50_ms, after.queued_workflow4_p50_ms]
]))
process.stdout.write(`\nheadline: ours ${ours.callers.orchestrationsPerSecond} orchestrations/s vs DBOS ${round(dbosRate, 1)} workflows/s, both with ${C} callers (DBOS: mean of the runs before and after): ratio ${ratio} (goal ≥ 2); ` +
  `our queue drain with ${C} slots: ${ours.orchestrationsPerSecond}/s, ratio ${drainRatio}; a backlog worked off: ${ours.backlogOrchestrationsPerSecond}/s, ratio ${backlogRatio}\n`)
process.stdout.write(JSON.stringify({
  bench: 'engine-vs-dbos', n: N, c: C, dbos_version: dbosVersion, load_average: { before: loadBefore, after: loadAfter },
  ours, dbos_before: before, dbos_after: after,
  ratio_workflows_per_s: ratio,
  ratio_drain_workflows_per_s: drainRatio,
  ratio_backlog_workflows_per_s: backlogRatio,
  ratio_step_overhead: round(ours.stepOverheadMs.p50 / dbosStep, 2)
}) + '\n')
