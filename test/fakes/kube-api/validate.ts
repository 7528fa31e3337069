// The API server's admission-time validation, for the fields our objects use:
// names, labels, and the StatefulSet/Service/Secret/PVC rules a wrong manifest
// would trip. Failures become 422 Invalid with details.causes, like the real one.
import { isCidr } from '../../../src/cidr.ts'
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
  // pkg/apis/core/validation/validation.go ValidateService: source ranges only on a LoadBalancer, each a CIDR;
  // validateServiceExternalTrafficPolicy: the policy only on externally-reachable types.
  const ranges: unknown[] = o.spec?.loadBalancerSourceRanges ?? []
  if (ranges.length > 0 && type !== 'LoadBalancer') causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may only be used when `type` is \'LoadBalancer\'', field: 'spec.loadBalancerSourceRanges' })
  ranges.forEach((r, i) => {
    if (typeof r !== 'string' || !isCidr(r)) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${String(r)}": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 `, field: `spec.loadBalancerSourceRanges[${i}]` })
  })
  if (o.spec?.externalTrafficPolicy && type !== 'LoadBalancer' && type !== 'NodePort') causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${o.spec.externalTrafficPolicy}": may only be set for externally-accessible services`, field: 'spec.externalTrafficPolicy' })
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

const STS_MUTABLE = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
const without = (o: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([k]) => !keys.includes(k)))

/**
 * Update validation (ValidateXUpdate in pkg/apis/{apps,core}/validation):
 * what may change on an existing object. 422 Invalid, as the API server says it.
 */
export function validateUpdate (type: ResourceType, old: KubeObject, next: KubeObject, quantity: (q: unknown) => number): void {
  const causes: Cause[] = []
  const name = old.metadata.name
  if (type.resource === 'statefulsets' && !same(without(old.spec, STS_MUTABLE), without(next.spec, STS_MUTABLE))) {
    causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden" })
  }
  if (type.resource === 'statefulsets' && typeof next.spec?.replicas === 'number' && next.spec.replicas < 0) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${next.spec.replicas}: must be greater than or equal to 0` })
  }
  if (type.resource === 'persistentvolumeclaims') {
    const bound = old.status?.phase === 'Bound'
    const mutable = bound ? ['resources', 'volumeAttributesClassName'] : []
    // The binder fills volumeName; a client echoing it back changes nothing.
    const strip = (s: any): Record<string, unknown> => without({ ...s, volumeName: s?.volumeName ?? old.spec?.volumeName }, mutable)
    if (!same(strip(old.spec), strip(next.spec)) || (!bound && !same(old.spec?.resources, next.spec?.resources))) {
      causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims' })
    } else if (quantity(next.spec?.resources?.requests?.storage) < quantity(old.spec?.resources?.requests?.storage)) {
      causes.push({ reason: 'FieldValueForbidden', field: 'spec.resources.requests.storage', message: 'Forbidden: field can not be less than previous value' })
    }
  }
  if (type.resource === 'services' && old.spec?.clusterIP && next.spec?.clusterIP && next.spec.clusterIP !== old.spec.clusterIP) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify([next.spec.clusterIP])}: may not change once set` })
  }
  if ((type.resource === 'secrets' || type.resource === 'configmaps') && old.immutable === true) {
    if (!same(old.data, next.data) || !same(old.binaryData, next.binaryData)) causes.push({ reason: 'FieldValueForbidden', field: 'data', message: 'Forbidden: field is immutable when `immutable` is set' })
    if (next.immutable !== true) causes.push({ reason: 'FieldValueForbidden', field: 'immutable', message: 'Forbidden: field is immutable when `immutable` is set' })
  }
  if (type.resource === 'pods') {
    const images = (s: any): unknown => ({ ...s, containers: (s?.containers ?? []).map((c: any) => ({ ...c, image: '' })), nodeName: undefined })
    if (!same(images(old.spec), images(next.spec))) {
      causes.push({ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)' })
    }
  }
  if (causes.length > 0) throw invalid(type.kind, name, causes, type.group)
}
