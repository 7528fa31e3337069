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
  description: `Lower-case letters, digits and '-', starting with a letter and not ending with '-', at most ${INSTANCE_NAME_MAX_LENGTH} characters, so that every Kubernetes object named after it is valid (a DNS-1035 label).`,
  examples: ['orders-db']
})

export const Cidr = Type.String({ format: 'cidr', maxLength: 64, description: 'An IPv4 or IPv6 network in CIDR notation, e.g. 203.0.113.0/24', examples: ['203.0.113.0/24'] })

export const Labels = Type.Record(Type.String({ maxLength: 317 }), Type.String({ maxLength: 63 }), {
  maxProperties: 32,
  description: 'Key/value pairs with Kubernetes label syntax (a key is [prefix/]name, name and value at most 63 characters, alphanumeric at both ends), copied onto the instance\'s Kubernetes objects.',
  examples: [{ env: 'prod', team: 'payments' }]
})

export const InstancePassword = Type.String({
  minLength: 12, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', writeOnly: true,
  description: 'Printable ASCII without spaces, 12 to 128 characters. Omit it and a strong one is generated and returned once.'
})

export const CreateInstanceRequest = Type.Object({
  name: InstanceName,
  password: Type.Optional(InstancePassword),
  postgres_version: Type.Optional(Type.Union(SUPPORTED_POSTGRES_VERSIONS.map(v => Type.Literal(v)), { default: '18', description: 'Major version' })),
  storage_size_gb: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: 10 })),
  use_load_balancer: Type.Optional(Type.Boolean({ default: true, description: 'A LoadBalancer Service (public IP) instead of ClusterIP' })),
  dns_label: Type.Optional(Type.Union([Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: DNS_LABEL_MAX_LENGTH }), Type.Null()], { default: null, description: 'Azure DNS label: <label>.<region>.cloudapp.azure.com' })),
  namespace: Type.Optional(Type.String({ pattern: NAMESPACE_PATTERN, maxLength: NAMESPACE_MAX_LENGTH, default: 'toygres' })),
  allowed_cidrs: Type.Optional(Type.Union([Type.Array(Cidr, { maxItems: 50 }), Type.Null()], {
    description: 'Networks allowed to connect. Omitted: TOYGRES_DEFAULT_ALLOWED_CIDRS (unset: anywhere).'
  })),
  labels: Type.Optional(Labels),
  deletion_protection: Type.Optional(Type.Boolean({ default: false, description: 'While true, DELETE is refused' }))
}, {
  additionalProperties: false,
  $id: 'CreateInstanceInput',
  title: 'CreateInstanceInput',
  examples: [{ name: 'orders-db', postgres_version: '18', storage_size_gb: 10, use_load_balancer: false }]
})
export type CreateInstanceRequest = Static<typeof CreateInstanceRequest>

export const NameParams = Type.Object({ name: InstanceName })

export const ResetPasswordRequest = Type.Object({
  password: Type.Optional(InstancePassword)
}, { additionalProperties: false, $id: 'ResetPasswordInput', title: 'ResetPasswordInput' })
export type ResetPasswordRequest = Static<typeof ResetPasswordRequest>

const ParameterValue = Type.Union([Type.String({ maxLength: 4096 }), Type.Number(), Type.Boolean(), Type.Null()], {
  description: 'The setting as postgresql.conf takes it (e.g. "64MB", 100, true); null resets it to the default'
})

export const UpdateInstanceRequest = Type.Object({
  parameters: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.]*$', maxLength: 63 }), ParameterValue, {
    maxProperties: 100,
    description: 'postgresql.conf settings, checked against the server\'s pg_settings, applied with ALTER SYSTEM and a reload',
    examples: [{ work_mem: '64MB', log_min_duration_statement: '500ms' }]
  })),
  apply: Type.Optional(Type.Union([Type.Literal('reload'), Type.Literal('restart')], {
    description: 'With parameters: "restart" restarts the server when a setting needs it (pending_restart); "reload" (default) never restarts'
  })),
  storage_size_gb: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Grow only' })),
  deletion_protection: Type.Optional(Type.Boolean({ description: 'While true, DELETE is refused' })),
  labels: Type.Optional(Type.Record(Type.String({ maxLength: 317 }), Type.Union([Type.String({ maxLength: 63 }), Type.Null()]), {
    maxProperties: 32,
    description: 'Merged into the labels (a null value removes the label), then copied onto the instance\'s Kubernetes objects'
  })),
  allowed_cidrs: Type.Optional(Type.Union([Type.Array(Cidr, { maxItems: 50 }), Type.Null()], { description: 'Replaces the allowed networks; null: anywhere' }))
}, {
  additionalProperties: false,
  minProperties: 1,
  $id: 'UpdateInstanceInput',
  title: 'UpdateInstanceInput',
  description: 'A JSON merge patch (RFC 7396) of the instance',
  examples: [{ parameters: { work_mem: '64MB' } }, { deletion_protection: true }, { storage_size_gb: 20 }]
})
export type UpdateInstanceRequest = Omit<Static<typeof UpdateInstanceRequest>, 'parameters'> & { parameters?: Record<string, string | null> }
