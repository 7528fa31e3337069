// Instance request and response schemas. Types come from these (Static<>).
import { Type, type Static } from 'typebox'
import { Nullable, Time } from './common.ts'

const NullableString = Nullable(Type.String())

export { CreateInstanceRequest, InstanceName, NameParams } from '../../instances/requests.ts'

export const InstanceState = Type.Union([
  Type.Literal('creating'), Type.Literal('running'), Type.Literal('failed'), Type.Literal('deleting'), Type.Literal('delete_failed'),
  Type.Literal('stopping'), Type.Literal('stopped'), Type.Literal('starting'), Type.Literal('restarting'), Type.Literal('updating')
], { description: 'creating → running | failed; running → restarting | stopping | updating → running; stopping → stopped → starting → running; any → deleting → (gone) | delete_failed' })
export const InstanceHealth = Type.Union([Type.Literal('unknown'), Type.Literal('healthy'), Type.Literal('unhealthy'), Type.Literal('stopped')])

/** The instance's fields, shared by every response that shows one. */
export const instanceFields = {
  name: Type.String(),
  namespace: Type.String(),
  state: InstanceState,
  health: InstanceHealth,
  postgres_version: Type.String({ description: 'The major version that runs (the requested one until it runs)' }),
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
  labels: Type.Record(Type.String(), Type.String()),
  allowed_cidrs: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'Networks allowed to connect; null: anywhere' }),
  deletion_protection: Type.Boolean({ description: 'While true, DELETE is refused' }),
  parameters: Type.Record(Type.String(), Type.String(), { description: 'postgresql.conf settings applied through PATCH' }),
  pending_restart: Type.Boolean({ description: 'A changed setting takes effect only after a restart (pg_settings.pending_restart)' }),
  operation: Type.Union([Type.Ref('Operation'), Type.Null()], { description: 'The latest operation asked for, with its step timeline' }),
  created_at: Time,
  updated_at: Time
}

export const Instance = Type.Object(instanceFields, {
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
    labels: { env: 'prod' },
    allowed_cidrs: null,
    deletion_protection: false,
    parameters: {},
    pending_restart: false,
    operation: null,
    created_at: '2026-11-26T12:00:00.000Z',
    updated_at: '2026-11-26T12:00:01.000Z'
  }]
})
export type InstanceDto = Static<typeof Instance>

const Secrets = {
  password: Type.String({ description: 'Shown this once (generated, or the one you gave)' }),
  connection_uri: Type.Union([Type.String({ examples: ['postgresql://postgres:s3cr%40t@127.0.0.1:25000/postgres?sslmode=require'] }), Type.Null()], {
    description: 'Ready to paste, with the password percent-encoded; shown this once. A local instance has it in the create\'s 202 (its port is reserved then); on Kubernetes it is null until the load balancer gives an address, known only after the 202: add the password to ip_connection_string yourself then (the CLI and the dashboard do).'
  })
}

export const CreatedInstance = Type.Object({
  password: Type.Optional(Type.String({ description: 'Only when Toygres generated it; shown this once' })),
  connection_uri: Secrets.connection_uri,
  ...instanceFields
}, { $id: 'CreatedInstance', title: 'CreatedInstance', description: 'The new instance; the generated password and a ready-to-paste URI first, shown this once' })

/** A change that became an operation: the instance, and which operation the change waits for. */
export const InstanceChange = Type.Object({
  ...instanceFields,
  queued_behind: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'The operation this change waits for (changes to one instance run one at a time, in order); null: it runs now' })
}, { $id: 'InstanceChange', title: 'InstanceChange' })

export const PasswordReset = Type.Object({
  ...Secrets,
  ...instanceFields,
  queued_behind: Type.Union([Type.String({ format: 'uuid' }), Type.Null()])
}, { $id: 'PasswordReset', title: 'PasswordReset', description: 'The new password and a ready-to-paste URI first, shown this once' })

export const ForgottenInstance = Type.Object({
  name: Type.String(),
  forgotten: Type.Literal(true),
  may_remain: Type.Array(Type.String(), { description: 'What the last deploy made, which may still exist on the platform (recorded in toygres.forgotten_instances)' })
}, { $id: 'ForgottenInstance', title: 'ForgottenInstance' })

export const InstanceList = Type.Object({
  items: Type.Array(Type.Ref('Instance')),
  next_cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page; null on the last page' })
}, { $id: 'InstanceList', title: 'InstanceList' })


export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(InstanceState),
  label: Type.Optional(Type.String({ maxLength: 2000, description: 'Label selector: key=value pairs, comma-separated; all must match (e.g. env=prod,team=a)', examples: ['env=prod,team=a'] }))
}, { additionalProperties: false })

export const DeleteQuery = Type.Object({
  force: Type.Optional(Type.Boolean({ default: false, description: 'Forget the instance at once, without removing its resources (for a platform that cannot be reached); what may remain is recorded' }))
}, { additionalProperties: false })
