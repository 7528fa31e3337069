// The rooms of src/ import one way, down the layers, with no cycles
// (.dependency-cruiser.cjs says which room may import which). Runs the
// real tool on the real tree, so an import that runs back up fails CI.
import t from 'tap'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = fileURLToPath(new URL('../node_modules/.bin/depcruise', import.meta.url))

t.test('no import runs back up the layers, and none runs in a circle', async t => {
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'src', 'client', 'cli', 'ui/src', '--config', '.dependency-cruiser.cjs', '--output-type', 'json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 })
  const report = JSON.parse(stdout) as { summary: { violations: Array<{ from: string, to: string, rule: { name: string } }>, totalCruised: number } }
  t.ok(report.summary.totalCruised > 50, `cruised the whole tree (${report.summary.totalCruised} modules)`)
  t.same(report.summary.violations.map(v => `${v.rule.name}: ${v.from} → ${v.to}`), [])
})
