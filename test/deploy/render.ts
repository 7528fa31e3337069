// The manifests under deploy/ as the cluster would get them: rendered by
// `kubectl kustomize` (the same kustomize `kubectl apply -k` runs), parsed,
// and checked against the official schemas.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as k8s from '@kubernetes/client-node'
import { parseAllDocuments } from 'yaml'

export const DEPLOY_DIR = fileURLToPath(new URL('../../deploy/', import.meta.url))

export interface KubeObject {
  apiVersion: string
  kind: string
  metadata: { name: string, namespace?: string, labels?: Record<string, string> }
  [field: string]: any
}

export function hasKubectl (): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0
}

/** `kubectl kustomize <dir>` (relative to deploy/): the objects, or an error with what kubectl said. */
export function render (dir = '.'): KubeObject[] {
  const out = spawnSync('kubectl', ['kustomize', new URL(dir, `file://${DEPLOY_DIR}`).pathname], { encoding: 'utf8' })
  if (out.status !== 0 || out.stderr.trim() !== '') throw new Error(`kubectl kustomize ${dir} failed (${out.status}): ${out.stderr}`)
  return parseYaml(out.stdout, `kubectl kustomize ${dir}`)
}

/** A YAML file under deploy/, not rendered (e.g. the Secret template). */
export function readManifest (file: string): KubeObject[] {
  return parseYaml(readFileSync(new URL(file, `file://${DEPLOY_DIR}`), 'utf8'), file)
}

function parseYaml (text: string, what: string): KubeObject[] {
  return parseAllDocuments(text).map((doc, i) => {
    const problems = [...doc.errors, ...doc.warnings]
    if (problems.length > 0) throw new Error(`${what}, document ${i + 1}: ${problems.map(p => p.message).join('; ')}`)
    return doc.toJS() as KubeObject
  }).filter(o => o !== null)
}

/**
 * Fields the official schema does not know, as paths. kubernetes-models
 * validates types, formats and required fields but lets unknown fields
 * through (as the schema allows); the API server's strict field validation
 * refuses them, and a typo such as `readOnlyRootFileSystem` would otherwise
 * pass silently. The type map is @kubernetes/client-node's, generated from
 * the same OpenAPI document.
 */
export function unknownFields (object: KubeObject): string[] {
  const prefix = object.apiVersion.includes('/') ? object.apiVersion.split('/')[1]! : object.apiVersion
  const typeName = `${prefix.charAt(0).toUpperCase()}${prefix.slice(1)}${object.kind}`
  if (!models[typeName]?.getAttributeTypeMap) throw new Error(`no schema for ${object.apiVersion} ${object.kind} (${typeName})`)
  return walk(object, typeName, object.kind)
}

type AttributeMap = Array<{ name: string, baseName: string, type: string }>
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => AttributeMap } | undefined>

function walk (value: unknown, type: string, path: string): string[] {
  if (value === null || value === undefined) return []
  const array = /^Array<(.+)>$/.exec(type)
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => walk(v, array[1]!, `${path}[${i}]`)) : []
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type)
  if (map) return Object.entries(value as object).flatMap(([k, v]) => walk(v, map[1]!, `${path}.${k}`))
  const model = models[type]?.getAttributeTypeMap
  if (!model) return [] // string, number, boolean, IntOrString, Date, any: leaves
  if (typeof value !== 'object') return []
  const attributes = new Map(model().map(a => [a.baseName, a.type]))
  return Object.entries(value as object).flatMap(([k, v]) =>
    attributes.has(k) ? walk(v, attributes.get(k)!, `${path}.${k}`) : [`${path}.${k}`])
}
