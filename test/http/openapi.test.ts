// openapi/openapi.json is generated from the route schemas and committed;
// this fails when someone changes a route without `npm run openapi`.
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import t from 'tap'
import { generateClientTypes, generateOpenApi } from '../../src/openapi.ts'

const committed = new URL('../../openapi/openapi.json', import.meta.url)

t.test('the committed OpenAPI document matches the code', async t => {
  t.equal(await readFile(committed, 'utf8'), await generateOpenApi(), 'run `npm run openapi` and commit openapi/openapi.json')
})

t.test('the typed client\'s types match the document', async t => {
  t.equal(await readFile(new URL('../../client/schema.ts', import.meta.url), 'utf8'), await generateClientTypes(await readFile(committed, 'utf8')), 'run `npm run openapi` and commit client/schema.ts')
})

t.test('the OpenAPI document lints clean with redocly', async t => {
  const bin = new URL('../../node_modules/.bin/redocly', import.meta.url).pathname
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, 'lint', committed.pathname, '--format=stylish'], { cwd: new URL('../..', import.meta.url).pathname })
  t.match(stdout + stderr, /valid/)
  t.notMatch(stdout + stderr, /warning|error/i)
})
