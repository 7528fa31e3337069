// Instance metadata: small, plain, parameterised SQL, one function per use.
// Transitions are guarded by a trigger (migrations/003_instances.sql).
import type { Queryable } from './queryable.ts'

/** The guarded state machine (migrations/007_day2.sql has the allowed transitions). */
export type InstanceState = 'creating' | 'running' | 'failed' | 'deleting' | 'delete_failed' | 'stopping' | 'stopped' | 'starting' | 'restarting' | 'updating'
export type InstanceHealth = 'unknown' | 'healthy' | 'unhealthy' | 'stopped'

export interface InstanceRow {
  id: string
  name: string
  namespace: string
  state: InstanceState
  health: InstanceHealth
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  ip_connection_string: string | null
  dns_connection_string: string | null
  external_ip: string | null
  dns_name: string | null
  server_version: string | null
  deployment_time_seconds: number | null
  error: { step: string | null, message: string } | null
  operation_id: string | null
  health_operation_id: string | null
  last_health_check_at: Date | null
  last_response_time_ms: number | null
  consecutive_failures: number
  labels: Record<string, string>
  allowed_cidrs: string[] | null
  deletion_protection: boolean
  /** postgresql.conf settings applied with ALTER SYSTEM; values as given. */
  parameters: Record<string, string>
  pending_restart: boolean
  created_at: Date
  updated_at: Date
}

// Every column but the ciphertext: reads never carry the password, even encrypted.
const COLUMNS = `id, name, namespace, state, health, postgres_version, storage_size_gb, use_load_balancer, dns_label,
  ip_connection_string, dns_connection_string, external_ip, dns_name, server_version, deployment_time_seconds, error,
  operation_id, health_operation_id, last_health_check_at, last_response_time_ms, consecutive_failures, labels, allowed_cidrs,
  deletion_protection, parameters, pending_restart, created_at, updated_at`

export interface NewInstance {
  id: string
  name: string
  namespace: string
  postgres_version: string
  storage_size_gb: number
  use_load_balancer: boolean
  dns_label: string | null
  password_ciphertext: string
  labels?: Record<string, string>
  allowed_cidrs?: string[] | null
  deletion_protection?: boolean
}

export async function insertInstance (db: Queryable, i: NewInstance): Promise<InstanceRow> {
  const { rows } = await db.query<InstanceRow>(
    `INSERT INTO toygres.instances (id, name, namespace, postgres_version, storage_size_gb, use_load_balancer, dns_label, password_ciphertext,
       labels, allowed_cidrs, deletion_protection)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
    [i.id, i.name, i.namespace, i.postgres_version, i.storage_size_gb, i.use_load_balancer, i.dns_label, i.password_ciphertext,
      JSON.stringify(i.labels ?? {}), i.allowed_cidrs ?? null, i.deletion_protection ?? false])
  return rows[0]!
}

export async function findInstanceByName (db: Queryable, name: string, forUpdate = false): Promise<InstanceRow | null> {
  // Named: the status endpoint that clients poll runs it, prepared once per connection.
  const { rows } = await db.query<InstanceRow>({
    name: forUpdate ? 'toygres-instance-by-name-for-update' : 'toygres-instance-by-name',
    text: `SELECT ${COLUMNS} FROM toygres.instances WHERE name = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    values: [name]
  })
  return rows[0] ?? null
}

export async function findInstanceById (db: Queryable, id: string): Promise<InstanceRow | null> {
  const { rows } = await db.query<InstanceRow>(`SELECT ${COLUMNS} FROM toygres.instances WHERE id = $1`, [id])
  return rows[0] ?? null
}

/** Keyset pagination by name: stable and cheap however deep the page. `labels`: every pair must match. */
export async function listInstances (db: Queryable, opts: { limit: number, after?: string | undefined, state?: InstanceState | undefined, labels?: Record<string, string> | undefined }): Promise<InstanceRow[]> {
  const { rows } = await db.query<InstanceRow>(
    `SELECT ${COLUMNS} FROM toygres.instances
     WHERE ($1::text IS NULL OR name > $1) AND ($2::text IS NULL OR state = $2) AND ($4::jsonb IS NULL OR labels @> $4::jsonb)
     ORDER BY name LIMIT $3`,
    [opts.after ?? null, opts.state ?? null, opts.limit, opts.labels && Object.keys(opts.labels).length ? JSON.stringify(opts.labels) : null])
  return rows
}

export async function readPasswordCiphertext (db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ password_ciphertext: string }>(
    'SELECT password_ciphertext FROM toygres.instances WHERE id = $1', [id])
  return rows[0]?.password_ciphertext ?? null
}

export async function setInstanceOperation (db: Queryable, id: string, operationId: string): Promise<void> {
  await db.query('UPDATE toygres.instances SET operation_id = $2 WHERE id = $1', [id, operationId])
}

export async function markDeleting (db: Queryable, id: string, operationId: string): Promise<void> {
  await db.query("UPDATE toygres.instances SET state = 'deleting', operation_id = $2, health = 'unknown', error = NULL WHERE id = $1", [id, operationId])
}

export interface RunningInfo {
  ip_connection_string: string
  dns_connection_string: string | null
  external_ip: string | null
  dns_name: string | null
  server_version: string
  deployment_time_seconds: number
}

/**
 * creating → running, with the connection info; postgres_version becomes the
 * major that runs. Returns false when the instance has moved on (deleted or deleting).
 */
export async function markRunning (db: Queryable, id: string, info: RunningInfo): Promise<boolean> {
  // True also when it is running already: a run that died after this
  // committed but before its checkpoint replays it, and must still start
  // the health monitor. False only when a delete overtook the create.
  const { rows } = await db.query<{ running: boolean }>(
    `WITH upd AS (
       UPDATE toygres.instances SET state = 'running', error = NULL, ip_connection_string = $2, dns_connection_string = $3,
         external_ip = $4, dns_name = $5, server_version = $6, deployment_time_seconds = $7,
         postgres_version = coalesce(substring($6 from 'PostgreSQL (\\d+)'), postgres_version)
       WHERE id = $1 AND state = 'creating'
       RETURNING id)
     SELECT EXISTS (SELECT 1 FROM upd)
         OR EXISTS (SELECT 1 FROM toygres.instances WHERE id = $1 AND state NOT IN ('creating', 'failed', 'deleting', 'delete_failed')) AS running`,
    [id, info.ip_connection_string, info.dns_connection_string, info.external_ip, info.dns_name, info.server_version, info.deployment_time_seconds])
  return rows[0]!.running
}

/** creating → failed, keeping the failing step and a readable error. */
export async function markFailed (db: Queryable, id: string, error: { step: string | null, message: string }): Promise<boolean> {
  const { rowCount } = await db.query(
    "UPDATE toygres.instances SET state = 'failed', error = $2 WHERE id = $1 AND state = 'creating'", [id, JSON.stringify(error)])
  return rowCount === 1
}

export async function setHealthOperation (db: Queryable, id: string, operationId: string | null): Promise<void> {
  await db.query('UPDATE toygres.instances SET health_operation_id = $2 WHERE id = $1', [id, operationId])
}

/** The end of a delete: the row and (by cascade) its history go; the name is free. */
export async function removeInstance (db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query("DELETE FROM toygres.instances WHERE id = $1 AND state = 'deleting'", [id])
  return rowCount === 1
}

export async function countInstancesBy (db: Queryable): Promise<Array<{ state: InstanceState, health: InstanceHealth, count: number }>> {
  const { rows } = await db.query<{ state: InstanceState, health: InstanceHealth, count: number }>(
    'SELECT state, health, count(*)::int AS count FROM toygres.instances GROUP BY state, health')
  return rows
}

/** What a health probe needs, in one read; null when the instance is gone. */
export interface ProbeTarget {
  state: InstanceState
  ip_connection_string: string | null
  password_ciphertext: string
  /** Set while a password reset runs: the server may already have this one. */
  pending_password_ciphertext: string | null
}

export async function readProbeTarget (db: Queryable, instanceId: string): Promise<ProbeTarget | null> {
  // Named: every probe runs it, so it is prepared once per connection.
  const { rows } = await db.query<ProbeTarget>({
    name: 'toygres-read-probe-target',
    text: 'SELECT state, ip_connection_string, password_ciphertext, pending_password_ciphertext FROM toygres.instances WHERE id = $1',
    values: [instanceId]
  })
  return rows[0] ?? null
}

/** A running instance, locked for the caller's transaction; null when it is not running. */
export async function lockRunningInstance (db: Queryable, instanceId: string): Promise<{ name: string, namespace: string, health_operation_id: string | null } | null> {
  const { rows } = await db.query<{ name: string, namespace: string, health_operation_id: string | null }>(
    "SELECT name, namespace, health_operation_id FROM toygres.instances WHERE id = $1 AND state = 'running' FOR UPDATE", [instanceId])
  return rows[0] ?? null
}

/** Instances in a state that only a running operation ends (creating, deleting, restarting...), with that operation. */
export async function listInTransition (db: Queryable, limit: number): Promise<Array<{ id: string, state: InstanceState, operation_id: string }>> {
  const { rows } = await db.query<{ id: string, state: InstanceState, operation_id: string }>(
    `SELECT id, state, operation_id FROM toygres.instances
     WHERE state IN ('creating', 'deleting', 'restarting', 'updating', 'stopping', 'starting') AND operation_id IS NOT NULL
     ORDER BY updated_at LIMIT $1`, [limit])
  return rows
}
