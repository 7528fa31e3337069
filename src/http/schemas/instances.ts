// Instance request and response schemas. Types come from these (Static<>).
import { Type, type Static } from 'typebox'
import { Nullable, Time } from './common.ts'
import {
  DNS_LABEL_MAX_LENGTH, DNS_LABEL_PATTERN, INSTANCE_NAME_MAX_LENGTH, INSTANCE_NAME_PATTERN,
  NAMESPACE_MAX_LENGTH, NAMESPACE_PATTERN, SUPPORTED_POSTGRES_VERSIONS
} from '../../provisioners/instance-names.ts'

const NullableString = Nullable(Type.String())

export const InstanceName = Type.String({
  pattern: INSTANCE_NAME_PATTERN,
  minLength: 1,
  maxLength: INSTANCE_NAME_MAX_LENGTH,
  description: `A DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most ${INSTANCE_NAME_MAX_LENGTH} characters (so every Kubernetes object derived from it stays valid).`,
  examples: ['orders-db']
})

export const CreateInstanceBody = Type.Object({
  name: InstanceName,
  password: Type.Optional(Type.String({
    minLength: 12, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', writeOnly: true,
    description: 'Printable ASCII without spaces. Omit it and a strong one is generated and returned once, in the 202 response.'
  })),
  postgres_version: Type.Optional(Type.Union(SUPPORTED_POSTGRES_VERSIONS.map(v => Type.Literal(v)), { default: '18', description: 'Major version' })),
  storage_size_gb: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, default: 10 })),
  use_load_balancer: Type.Optional(Type.Boolean({ default: true, description: 'A LoadBalancer Service (public IP) instead of ClusterIP' })),
  dns_label: Type.Optional(Type.Union([Type.String({ pattern: DNS_LABEL_PATTERN, maxLength: DNS_LABEL_MAX_LENGTH }), Type.Null()], { description: 'Azure DNS label: <label>.<region>.cloudapp.azure.com' })),
  namespace: Type.Optional(Type.String({ pattern: NAMESPACE_PATTERN, maxLength: NAMESPACE_MAX_LENGTH, default: 'toygres' }))
}, {
  additionalProperties: false,
  $id: 'CreateInstanceInput',
  title: 'CreateInstanceInput',
  examples: [{ name: 'orders-db', postgres_version: '18', storage_size_gb: 10, use_load_balancer: false }]
})
export type CreateInstanceBodyType = Static<typeof CreateInstanceBody>

export const InstanceState = Type.Union([Type.Literal('creating'), Type.Literal('running'), Type.Literal('failed'), Type.Literal('deleting')])
export const InstanceHealth = Type.Union([Type.Literal('unknown'), Type.Literal('healthy'), Type.Literal('unhealthy')])

export const Instance = Type.Object({
  name: Type.String(),
  namespace: Type.String(),
  state: InstanceState,
  health: InstanceHealth,
  postgres_version: Type.String({ description: 'The requested major version' }),
  storage_size_gb: Type.Integer(),
  use_load_balancer: Type.Boolean(),
  dns_label: NullableString,
  ip_connection_string: Type.Union([Type.String({ examples: ['postgresql://postgres@127.0.0.1:55000/postgres'] }), Type.Null()], {
    description: 'Has no password: add the one you set (percent-encoded), or use PGPASSWORD.'
  }),
  dns_connection_string: NullableString,
  external_ip: NullableString,
  dns_name: NullableString,
  server_version: Type.Union([Type.String(), Type.Null()], { description: 'SELECT version() once running' }),
  deployment_time_seconds: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.Object({ step: NullableString, message: Type.String() }), Type.Null()]),
  last_health_check_at: Type.Union([Time, Type.Null()]),
  last_response_time_ms: Type.Union([Type.Number(), Type.Null()]),
  operation: Type.Union([Type.Ref('Operation'), Type.Null()], { description: 'The current (or last) create/delete operation with its step timeline' }),
  created_at: Time,
  updated_at: Time
}, {
  $id: 'Instance',
  title: 'Instance',
  examples: [{
    name: 'orders-db',
    namespace: 'toygres',
    state: 'running',
    health: 'healthy',
    postgres_version: '18',
    storage_size_gb: 10,
    use_load_balancer: false,
    dns_label: null,
    ip_connection_string: 'postgresql://postgres@127.0.0.1:25000/postgres',
    dns_connection_string: null,
    external_ip: '127.0.0.1',
    dns_name: null,
    server_version: 'PostgreSQL 18.1 on x86_64-pc-linux-gnu',
    deployment_time_seconds: 1,
    error: null,
    last_health_check_at: '2026-11-26T12:00:30.000Z',
    last_response_time_ms: 3.2,
    operation: null,
    created_at: '2026-11-26T12:00:00.000Z',
    updated_at: '2026-11-26T12:00:01.000Z'
  }]
})
export type InstanceDto = Static<typeof Instance>

export const CreatedInstance = Type.Intersect([Type.Ref('Instance'), Type.Object({
  password: Type.Optional(Type.String({ description: 'Only when Toygres generated it; shown this once.' }))
})], { $id: 'CreatedInstance', title: 'CreatedInstance' })

export const InstanceList = Type.Object({
  items: Type.Array(Type.Ref('Instance')),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' })
}, { $id: 'InstanceList', title: 'InstanceList' })

export const NameParams = Type.Object({ name: InstanceName })

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(InstanceState)
}, { additionalProperties: false })
