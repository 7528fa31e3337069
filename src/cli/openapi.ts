// npm run openapi: writes openapi/openapi.json (committed; a test fails when stale).
import { writeFile } from 'node:fs/promises'
import { generateOpenApi } from '../openapi.ts'

const target = new URL('../../openapi/openapi.json', import.meta.url)
await writeFile(target, await generateOpenApi())
process.stdout.write(`wrote ${target.pathname}\n`)
