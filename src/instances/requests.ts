// What clients ask for, as TypeBox schemas: the HTTP layer validates with
// them (and documents them in OpenAPI), the service takes their static types.
// One definition, so the docs, the validation and the code agree.
import { Type, type Static } from 'typebox'
import {
  DNS_LABEL_MAX_LENGTH, DNS_LABEL_PATTERN, INSTANCE_NAME_MAX_LENGTH, INSTANCE_NAME_PATTERN,
  NAMESPACE_MAX_LENGTH, NAMESPACE_PATTERN, SUPPORTED_POSTGRES_VERSIONS
} from '../provisioners/instance-names.ts'

export const InstanceName = Type.String({
  pattern: INSTANCE_NAME_PATTERN,
  minLength: 1,
  maxLength: INSTANCE_NAME_MAX_LENGTH,
  description: `A DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most ${INSTANCE_NAME_MAX_LENGTH} characters (so every Kubernetes object derived from it stays valid).`,
  examples: ['orders-db']
})

export const Cidr = Type.String({ format: 'cidr', maxLength: 64, description: 'An IPv4 or IPv6 network in CIDR notation, e.g. 203.0.113.0/24', examples: ['203.0.113.0/24'] })

export const Labels = Type.Record(Type.String(), Type.String(), {
  description: 'Key/value pairs with Kubernetes label syntax, copied onto the instance\'s Kubernetes objects.',
  examples: [{ env: 'prod', team: 'payments' }]
})

export const CreateInstanceRequest = Type.Object({
  name: InstanceName,
  password: Type.Optional(Type.String({
    minLength: 12, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', writeOnly: true,
    description: 'Printable ASCII without spaces. Omit it and a strong one is generated and returned once, in the 202 response.'
  })),
  postgres_version: Type.Optional(Type.Union(SUPPORTED_POSTGRES_VERSIONS.map(v => Type.Literal(v)), { default: '18', description: 'Major version' })),
  storage_size_gb: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: 10 })),
  use_load_balancer: Type.Optional(Type.Boolean({ default: true, description: 'A LoadBalancer Service (public IP) instead of ClusterIP' })),
  dns_label: Type.Optional(Type.Union([Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: DNS_LABEL_MAX_LENGTH }), Type.Null()], { default: null, description: 'Azure DNS label: <label>.<region>.cloudapp.azure.com' })),
  namespace: Type.Optional(Type.String({ pattern: NAMESPACE_PATTERN, maxLength: NAMESPACE_MAX_LENGTH, default: 'toygres' })),
  allowed_cidrs: Type.Optional(Type.Union([Type.Array(Cidr, { maxItems: 50 }), Type.Null()], {
    description: 'Networks allowed to connect. Omitted: TOYGRES_DEFAULT_ALLOWED_CIDRS (unset: anywhere).'
  })),
  labels: Type.Optional(Labels)
}, {
  additionalProperties: false,
  $id: 'CreateInstanceInput',
  title: 'CreateInstanceInput',
  examples: [{ name: 'orders-db', postgres_version: '18', storage_size_gb: 10, use_load_balancer: false }]
})
export type CreateInstanceRequest = Static<typeof CreateInstanceRequest>

export const NameParams = Type.Object({ name: InstanceName })
