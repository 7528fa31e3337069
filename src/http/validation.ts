// Request validation: exact types for bodies, words for errors.
//
// Bodies get exactly the types the OpenAPI document states (no coercion:
// `"10"` is not 10, `["x"]` is not "x"); query strings, path parameters and
// headers arrive as text, so numbers there are still parsed. Ajv's errors
// ("must be equal to constant", raw patterns) become sentences that say what
// is allowed, reusing each schema's own description, so the documentation
// and the error agree.
import { AjvCompiler } from '@fastify/ajv-compiler'
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import type { FieldError } from '../errors.ts'

type ValidatorFactory = ReturnType<typeof AjvCompiler>

/**
 * Fastify's `schemaController`: one Ajv for bodies (no coercion), one for
 * the rest. Both verbose, so an error carries the schema it broke.
 */
const ajvOptions = (formats: Record<string, (value: string) => boolean>) => ({ removeAdditional: false, useDefaults: true, allErrors: true, verbose: true, formats })

/**
 * A validator for one JSON body with the same rules as the routes' (no
 * coercion, defaults applied in place): for items validated one by one,
 * such as the entries of a batch. Returns the problems in words, or [].
 */
export function bodyValidator (schema: object, formats: Record<string, (value: string) => boolean>): (value: unknown, field: string) => FieldError[] {
  const validate = AjvCompiler()({}, { customOptions: { ...ajvOptions(formats), coerceTypes: false } })({ schema } as never) as unknown as
    ((v: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null }
  return (value, field) => validate(value) ? [] : fieldErrors(validate.errors ?? [], field)
}

export function schemaController (formats: Record<string, (value: string) => boolean>) {
  const bodies: ValidatorFactory = AjvCompiler()
  const others: ValidatorFactory = AjvCompiler()
  const options = ajvOptions(formats)
  return {
    compilersFactory: {
      buildValidator (external: Parameters<ValidatorFactory>[0], fastifyOptions?: { customOptions?: object }) {
        const body = bodies(external, { ...fastifyOptions, customOptions: { ...fastifyOptions?.customOptions, ...options, coerceTypes: false } })
        const rest = others(external, { ...fastifyOptions, customOptions: { ...fastifyOptions?.customOptions, ...options, coerceTypes: 'array' } })
        return (route: { httpPart?: string }) => route.httpPart === 'body' ? body(route as never) : rest(route as never)
      }
    }
  }
}

interface AjvError extends FastifySchemaValidationError {
  schemaPath: string
  parentSchema?: Record<string, any>
  data?: unknown
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text (a JSON string)',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a JSON array',
  null: 'null'
}

const FORMAT_WORDS: Record<string, string> = {
  uuid: 'a UUID, e.g. 3f0c8a4e-2b1d-4c7a-9e5f-0a1b2c3d4e5f',
  'date-time': 'an ISO 8601 date-time, e.g. 2026-01-01T12:00:00Z',
  cidr: 'a network in CIDR notation, e.g. 203.0.113.0/24 or 2001:db8::/32'
}

const jsonType = (v: unknown): string => v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v
/** What the client sent, briefly: a string or a scalar as written, anything else by its kind. */
const got = (v: unknown): string => {
  if (v === undefined) return ''
  const shown = typeof v === 'string' ? JSON.stringify(v).slice(0, 40) : typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : jsonType(v)
  return ` (got ${shown})`
}
/** `a`, `a or b`, `one of a, b or c`. */
const either = (words: string[]): string => words.length <= 2 ? words.join(' or ') : `one of ${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`
const sentence = (text: string): string => text.replace(/\s+/g, ' ').trim().replace(/\.$/, '')

/** One branch of a union, in words: `"18"`, `null`, `text`. */
function branchWords (schema: Record<string, any>): string {
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return schema.enum.map((v: unknown) => JSON.stringify(v)).join(', ')
  if (schema.format && FORMAT_WORDS[schema.format]) return FORMAT_WORDS[schema.format]!
  if (schema.type === 'array' && schema.items) return `a JSON array of ${branchWords(schema.items)}`
  return TYPE_WORDS[schema.type] ?? 'a valid value'
}

function message (e: AjvError): string {
  const p = e.params as Record<string, any>
  const described = e.parentSchema?.description ? `: ${sentence(e.parentSchema.description)}` : ''
  switch (e.keyword) {
    case 'required': {
      const d = e.parentSchema?.properties?.[p.missingProperty]?.description
      return `is required${d ? ` (${sentence(d)})` : ''}`
    }
    case 'additionalProperties': {
      const known = Object.keys(e.parentSchema?.properties ?? {})
      return `is not a field of this request${known.length ? `; the fields are ${known.join(', ')}` : ''}`
    }
    case 'type': return `must be ${[p.type].flat().map((t: string) => TYPE_WORDS[t] ?? t).join(' or ')}${got(e.data)}`
    case 'const': return `must be ${JSON.stringify(p.allowedValue)}${got(e.data)}`
    case 'enum': return `must be ${either((p.allowedValues as unknown[]).map(v => JSON.stringify(v)))}${got(e.data)}`
    case 'anyOf':
    case 'oneOf': return `must be ${either((e.parentSchema?.[e.keyword] as Array<Record<string, any>> ?? []).map(branchWords))}${got(e.data)}`
    case 'minLength': return `must be at least ${p.limit} characters long${described}`
    case 'maxLength': return `must be at most ${p.limit} characters long${described}`
    case 'minimum': return `must be at least ${p.limit}${got(e.data)}`
    case 'maximum': return `must be at most ${p.limit}${got(e.data)}`
    case 'exclusiveMinimum': return `must be more than ${p.limit}${got(e.data)}`
    case 'exclusiveMaximum': return `must be less than ${p.limit}${got(e.data)}`
    case 'minItems': return `must have at least ${p.limit} item${p.limit === 1 ? '' : 's'}`
    case 'maxItems': return `must have at most ${p.limit} items`
    case 'minProperties': return `must have at least ${p.limit} field${p.limit === 1 ? '' : 's'}`
    case 'maxProperties': return `must have at most ${p.limit} fields`
    case 'pattern': return `is not valid${described || ': it does not have the required form'}`
    case 'format': return `must be ${FORMAT_WORDS[p.format] ?? `a valid ${p.format}`}${got(e.data)}`
    default: return e.message ?? 'is not valid'
  }
}

/**
 * Ajv's errors for one request part, as `{ field, message }` in words.
 * Within a union (anyOf), when the value's JSON type picks exactly one
 * branch, that branch's errors are the useful ones; otherwise one sentence
 * lists what the union allows.
 */
export function fieldErrors (errors: FastifySchemaValidationError[], context: string | undefined): FieldError[] {
  const all = errors as AjvError[]
  const unions = all.filter(e => e.keyword === 'anyOf' || e.keyword === 'oneOf')
  const kept = new Set<AjvError>(all.filter(e => !unions.some(u => isBranchError(e, u))))
  for (const u of unions) {
    const branches = (u.parentSchema?.[u.keyword] ?? []) as Array<Record<string, any>>
    const type = jsonType(u.data)
    const fitting = branches.map((b, i) => ({ b, i })).filter(({ b }) => b.type === type || (b.type === 'number' && type === 'integer'))
    if (fitting.length !== 1) continue
    const prefix = `${u.schemaPath.replace(/\/(anyOf|oneOf)$/, '')}/${u.keyword}/${fitting[0]!.i}/`
    const inner = all.filter(e => e.schemaPath.startsWith(prefix))
    if (inner.length === 0) continue
    kept.delete(u)
    for (const e of inner) kept.add(e)
  }
  const seen = new Set<string>()
  const out: FieldError[] = []
  for (const e of all) {
    if (!kept.has(e)) continue
    const path = e.instancePath.replace(/^\//, '').split('/').filter(Boolean).join('.')
    const p = e.params as Record<string, any>
    const leaf = e.keyword === 'required' ? p.missingProperty : e.keyword === 'additionalProperties' ? p.additionalProperty : ''
    const field = [context, path, leaf].filter(Boolean).join('.')
    const text = message(e)
    if (seen.has(`${field} ${text}`)) continue
    seen.add(`${field} ${text}`)
    out.push({ field, message: text })
  }
  return out
}

/** True for an error raised inside one branch of union `u` (same place or deeper). */
function isBranchError (e: AjvError, u: AjvError): boolean {
  if (e === u) return false
  const base = u.schemaPath.replace(/\/(anyOf|oneOf)$/, '')
  return e.schemaPath.startsWith(`${base}/${u.keyword}/`) && e.instancePath.startsWith(u.instancePath)
}
