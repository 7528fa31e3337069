// The API server's admission-time validation, for the fields our objects use:
// names, labels, and the StatefulSet/Service/Secret/PVC rules a wrong manifest
// would trip. Failures become 422 Invalid with details.causes, like the real one.
import { invalid, type Cause } from './status.ts'
import type { KubeObject, NameRule, ResourceType } from './resources.ts'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const LABEL_KEY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/

const NAME_MESSAGES: Record<NameRule, [RegExp, number, string]> = {
  'dns1123-label': [DNS1123_LABEL, 63, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"],
  'dns1035-label': [DNS1035_LABEL, 63, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"],
  'dns1123-subdomain': [DNS1123_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]
}

function checkName (value: unknown, rule: NameRule, field: string, causes: Cause[]): void {
  const [re, max, message] = NAME_MESSAGES[rule]
  if (typeof value !== 'string' || value === '') {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field })
  } else if (value.length > max) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${value}": must be no more than ${max} characters`, field })
  } else if (!re.test(value)) {
    causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${value}": ${message}`, field })
  }
}

function checkLabels (labels: Record<string, string> | undefined, field: string, causes: Cause[]): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const name = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k
    if (name.length > 63 || !LABEL_KEY_NAME.test(name)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`, field })
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character; must be no more than 63 characters`, field: `${field}` })
  }
}

function checkStatefulSet (o: KubeObject, causes: Cause[]): void {
  const spec = o.spec ?? {}
  const match: Record<string, string> = spec.selector?.matchLabels ?? {}
  const tpl: Record<string, string> = spec.template?.metadata?.labels ?? {}
  if (Object.keys(match).length === 0) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: "null": empty selector is invalid for statefulset', field: 'spec.selector' })
  else if (!Object.entries(match).every(([k, v]) => tpl[k] === v)) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: map[string]string{}: `selector` does not match template `labels`', field: 'spec.template.metadata.labels' })
  checkLabels(tpl, 'spec.template.metadata.labels', causes)
  const containers: Array<{ name?: string, image?: string }> = spec.template?.spec?.containers ?? []
  if (containers.length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers' })
  containers.forEach((c, i) => {
    if (!c.name) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `spec.template.spec.containers[${i}].name` })
    if (!c.image) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `spec.template.spec.containers[${i}].image` })
  })
  for (const [i, t] of (spec.volumeClaimTemplates ?? []).entries()) {
    if (!t.spec?.resources?.requests?.storage) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: `spec.volumeClaimTemplates[${i}].spec.resources[storage]` })
  }
}

function checkService (o: KubeObject, causes: Cause[]): void {
  const type = o.spec?.type ?? 'ClusterIP'
  if (!['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'].includes(type)) causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: "${type}"`, field: 'spec.type' })
  if (o.spec?.clusterIP === 'None' && type !== 'ClusterIP') causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: "None": may not be set to \'None\' for LoadBalancer services', field: 'spec.clusterIP' })
  for (const [i, p] of (o.spec?.ports ?? []).entries()) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${p.port}: must be between 1 and 65535, inclusive`, field: `spec.ports[${i}].port` })
  }
}

function checkSecret (o: KubeObject, causes: Cause[]): void {
  for (const [k, v] of Object.entries(o.data ?? {})) {
    if (typeof v !== 'string' || Buffer.from(v, 'base64').toString('base64') !== v) causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: illegal base64 data', field: `data[${k}]` })
  }
}

/** Throws 422 Invalid when the object would be refused by a real API server. */
export function validate (type: ResourceType, o: KubeObject): void {
  const causes: Cause[] = []
  checkName(o.metadata?.name, type.nameRule, 'metadata.name', causes)
  checkLabels(o.metadata?.labels, 'metadata.labels', causes)
  if (type.resource === 'statefulsets') checkStatefulSet(o, causes)
  if (type.resource === 'services') checkService(o, causes)
  if (type.resource === 'secrets') checkSecret(o, causes)
  if (type.resource === 'persistentvolumeclaims' && !o.spec?.resources?.requests?.storage) {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.resources[storage]' })
  }
  if (causes.length > 0) throw invalid(type.kind, String(o.metadata?.name ?? ''), causes, type.group)
}
