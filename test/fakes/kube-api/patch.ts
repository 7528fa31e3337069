// The three PATCH bodies the API server accepts
// (k8s.io/apiserver/pkg/endpoints/handlers/patch.go):
//   application/merge-patch+json            RFC 7386: maps merge, null deletes, lists replace
//   application/strategic-merge-patch+json  k8s.io/apimachinery/pkg/util/strategicpatch:
//       lists of objects merge by their patchMergeKey (containers/env/volumes/
//       volumeMounts by name, ports by containerPort or port, conditions by
//       type), primitive lists with patchStrategy merge (finalizers) union,
//       `$patch: delete|replace`, `$deleteFromPrimitiveList/<field>`
//   application/json-patch+json             RFC 6902 add/remove/replace/move/copy/test
// application/apply-patch+yaml (server-side apply) is refused with 415.
import { StatusError } from './status.ts'

type Json = any

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v)

export function mergePatch (target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch)
  const out: Record<string, Json> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/** patchMergeKey per field name (from the struct tags in k8s.io/api/core/v1/types.go). */
function mergeKey (field: string, items: Json[]): string | undefined {
  switch (field) {
    case 'containers': case 'initContainers': case 'ephemeralContainers': case 'env': case 'volumes': case 'imagePullSecrets':
      return 'name'
    case 'volumeMounts': return 'mountPath'
    case 'conditions': return 'type'
    case 'ports': return items.some(i => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port'
    default: return undefined
  }
}
/** Primitive lists with patchStrategy:"merge". */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers'])

export function strategicMergePatch (target: Json, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) return mergeList(Array.isArray(target) ? target : [], patch, field)
  if (!isObject(patch)) return structuredClone(patch)
  if (patch.$patch === 'replace') { const { $patch: _, ...rest } = patch; return structuredClone(rest) }
  if (patch.$patch === 'delete') return undefined
  const out: Record<string, Json> = isObject(target) ? { ...target } : {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys') continue
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length)
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = out[f].filter((x: Json) => !v.includes(x))
      continue
    }
    if (v === null) { delete out[k]; continue }
    const merged = strategicMergePatch(out[k], v, k)
    if (merged === undefined) delete out[k]
    else out[k] = merged
  }
  return out
}

function mergeList (target: Json[], patch: Json[], field: string): Json[] {
  if (patch.some(p => isObject(p) && p.$patch === 'replace')) return patch.filter(p => !(isObject(p) && p.$patch === 'replace'))
  if (patch.every(p => !isObject(p))) {
    if (!MERGED_PRIMITIVE_LISTS.has(field)) return structuredClone(patch)
    return [...target, ...patch.filter(p => !target.includes(p))]
  }
  const key = mergeKey(field, [...target, ...patch])
  if (!key) return structuredClone(patch.filter(p => !(isObject(p) && p.$patch === 'delete')))
  const out = target.map(t => structuredClone(t))
  for (const p of patch) {
    const i = out.findIndex(t => isObject(t) && t[key] === p[key])
    if (p.$patch === 'delete') { if (i >= 0) out.splice(i, 1); continue }
    if (i >= 0) out[i] = strategicMergePatch(out[i], p, field)
    else { const { $patch: _, ...rest } = p; out.push(rest) }
  }
  return out
}

const unescape = (s: string): string => s.replace(/~1/g, '/').replace(/~0/g, '~')

function pointer (doc: Json, path: string): { parent: Json, key: string } {
  if (!path.startsWith('/')) throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: invalid JSON pointer "${path}"`)
  const parts = path.slice(1).split('/').map(unescape)
  let parent = doc
  for (const p of parts.slice(0, -1)) {
    parent = Array.isArray(parent) ? parent[Number(p)] : parent?.[p]
    if (parent === undefined || parent === null) throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: missing path "${path}"`)
  }
  return { parent, key: parts[parts.length - 1]! }
}

function read (doc: Json, path: string): Json {
  if (path === '') return doc
  const { parent, key } = pointer(doc, path)
  return Array.isArray(parent) ? parent[Number(key)] : parent[key]
}

export function jsonPatch (target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new StatusError(400, 'BadRequest', 'json: cannot unmarshal object into Go value of type jsonpatch.Patch')
  let doc = structuredClone(target)
  for (const op of ops) {
    const fail = (why: string): never => { throw new StatusError(422, 'Invalid', `the server rejected our request due to an error in our request: ${why}`) }
    const put = (path: string, value: Json, insert: boolean): void => {
      if (path === '') { doc = value; return }
      const { parent, key } = pointer(doc, path)
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key)
        if (!(i >= 0 && i <= parent.length)) fail(`index out of range in "${path}"`)
        if (insert) parent.splice(i, 0, value); else parent[i] = value
      } else {
        if (!insert && !(key in parent)) fail(`replace operation does not apply: doc is missing key: ${path}`)
        parent[key] = value
      }
    }
    const del = (path: string): void => {
      const { parent, key } = pointer(doc, path)
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else if (key in parent) delete parent[key]
      else fail(`remove operation does not apply: doc is missing path: "${path}"`)
    }
    switch (op.op) {
      case 'add': put(op.path, structuredClone(op.value), true); break
      case 'replace': put(op.path, structuredClone(op.value), false); break
      case 'remove': del(op.path); break
      case 'move': { const v = read(doc, op.from); del(op.from); put(op.path, v, true); break }
      case 'copy': put(op.path, structuredClone(read(doc, op.from)), true); break
      case 'test': if (JSON.stringify(read(doc, op.path)) !== JSON.stringify(op.value)) fail(`testing value ${op.path} failed`); break
      default: fail(`Unexpected kind: ${String(op.op)}`)
    }
  }
  return doc
}

export function applyPatch (contentType: string, target: Json, body: Json): Json {
  const type = contentType.split(';')[0]!.trim()
  if (type === 'application/merge-patch+json') return mergePatch(target, body)
  if (type === 'application/strategic-merge-patch+json') return strategicMergePatch(target, body)
  if (type === 'application/json-patch+json') return jsonPatch(target, body)
  throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`)
}
