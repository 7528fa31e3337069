import { orchestration } from '../../src/engine/index.ts'
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { engineDatabase } from './helpers.ts'
import { effectCounts, until } from './fixtures/setup.ts'
import { registerFourSteps } from './fixtures/orchestrations.ts'

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))

async function startWorker (t: { teardown (fn: () => unknown): void }, url: string, hang: string, startKey = ''): Promise<ChildProcess & { output: () => string }> {
  const child = spawn(process.execPath, [WORKER], { env: { ...process.env, ENGINE_TEST_DB_URL: url, HANG: hang, START_KEY: startKey }, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  await until(async () => out, o => o.includes('ready') || child.exitCode !== null, 'worker ready')
  if (!out.includes('ready')) throw new Error('worker failed to start')
  return Object.assign(child, { output: () => out })
}

for (const hang of ['after-2', 'in-3'] as const) {
  t.test(`a worker SIGKILLed ${hang === 'after-2' ? 'after step 2 of 4' : 'during step 3 of 4'} is replaced; completed steps ran once`, async t => {
    const db = await engineDatabase(t)
    const api = await db.stack({ concurrency: 0 })
    const child = await startWorker(t, db.url, hang)
    const { operation } = await api.engine.start(orchestration('test::four-steps'), {}, { key: 'crash' })
    if (hang === 'after-2') {
      await until(() => api.engine.getSteps(operation.id), s => s.length === 2, 'two checkpoints')
    } else {
      await until(() => effectCounts(api.pool, operation.id), c => c['step-3'] === 1, 'step 3 running')
    }
    child.kill('SIGKILL')
    await once(child, 'exit')
    t.equal((await api.engine.getOperation(operation.id))?.status, 'running', 'left running by the dead worker')

    const survivor = await db.stack({ concurrency: 2, heartbeatSeconds: 10 })
    registerFourSteps(survivor.engine, survivor.pool, undefined)
    await survivor.engine.work()
    // pg-boss notices the silent heartbeat (10 s) and retries the job here.
    const done = await survivor.engine.waitFor(operation.id, { timeoutMs: 90_000 })
    t.equal(done.status, 'succeeded')
    t.same(done.output, [1, 2, 3, 4])
    t.equal(done.attempts, 2, 'claimed twice: the dead run and the replay')
    const counts = await effectCounts(api.pool, operation.id)
    t.equal(counts['step-1'], 1)
    t.equal(counts['step-2'], 1)
    t.ok(counts['step-3'] !== undefined && counts['step-3'] <= 2, 'the interrupted step ran at most twice')
    t.equal(counts['step-4'], 1)
    t.same((await survivor.engine.getSteps(operation.id)).map(s => [s.name, s.status, s.attempts]),
      [1, 2, 3, 4].map(i => [`step-${i}`, 'succeeded', 1]))
  })
}

t.test('a worker SIGKILLed inside a run it started itself (eager, no start job) is replaced; completed steps ran once', async t => {
  const db = await engineDatabase(t)
  const api = await db.stack({ concurrency: 0 })
  const child = await startWorker(t, db.url, 'in-3', 'eager-crash')
  const [, id, status] = (await until(async () => child.output(), o => /started \S+ \S+/.test(o), 'the worker\'s own start')).match(/started (\S+) (\S+)/)!
  t.equal(status, 'running', 'the worker claimed it in its start')
  const { rows: [{ n }] } = await api.pool.query("SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'operationId' = $1", [id])
  t.equal(n, 0, 'no start job: only the operation\'s lease says who runs it')
  await until(() => effectCounts(api.pool, id!), c => c['step-3'] === 1, 'step 3 running')
  child.kill('SIGKILL')
  await once(child, 'exit')

  const survivor = await db.stack({ concurrency: 2, heartbeatSeconds: 10 })
  registerFourSteps(survivor.engine, survivor.pool, undefined)
  await survivor.engine.work()
  // The dead worker's lease lapses (10 s); the survivor's next fetch takes it over.
  const done = await survivor.engine.waitFor(id!, { timeoutMs: 90_000 })
  t.equal(done.status, 'succeeded')
  t.same(done.output, [1, 2, 3, 4])
  t.equal(done.attempts, 2, 'claimed twice: the dead run and the takeover')
  const counts = await effectCounts(api.pool, id!)
  t.equal(counts['step-1'], 1)
  t.equal(counts['step-2'], 1)
  t.equal(counts['step-3'], 2, 'the interrupted step ran again')
  t.equal(counts['step-4'], 1)
})
