// npm run openapi: writes openapi/openapi.json and the typed client's
// client/schema.ts from it (both committed; a test fails when stale).
import { writeFile } from 'node:fs/promises'
import { generateClientTypes, generateOpenApi } from '../openapi.ts'

const doc = new URL('../../openapi/openapi.json', import.meta.url)
const types = new URL('../../client/schema.ts', import.meta.url)
const text = await generateOpenApi()
await writeFile(doc, text)
await writeFile(types, await generateClientTypes(text))
process.stdout.write(`wrote ${doc.pathname} and ${types.pathname}\n`)
