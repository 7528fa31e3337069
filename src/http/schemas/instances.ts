// Instance request and response schemas. Types come from these (Static<>).
import { Type, type Static } from 'typebox'
import { Nullable, Time } from './common.ts'

const NullableString = Nullable(Type.String())

export { CreateInstanceRequest, InstanceName, NameParams } from '../../instances/requests.ts'

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
  ca_certificate: Type.Optional(Type.String({
    description: 'PEM of the CA that signed the server\'s certificate (GET of one instance): save it and connect with sslmode=verify-ca sslrootcert=<file>, or verify-full through a name in the certificate'
  })),
  waiting_for: Type.Union([Type.String(), Type.Null()], {
    description: 'While creating or deleting: what the running step waits for now, in the cluster\'s words (e.g. "PersistentVolumeClaim data-orders-0 is not bound yet")'
  }),
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
    waiting_for: null,
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


export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(InstanceState)
}, { additionalProperties: false })
