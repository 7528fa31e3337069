// The control plane's identity and its CA: one row each (migrations/006).
import type { Queryable } from './queryable.ts'

/** Inserts `candidate` unless an id exists; returns the id that holds (the first replica's). */
export async function claimControlPlaneId (db: Queryable, candidate: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `WITH ins AS (INSERT INTO toygres.control_plane (id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id)
     SELECT id FROM ins UNION ALL SELECT id FROM toygres.control_plane LIMIT 1`, [candidate])
  // A concurrent first insert commits after this statement's snapshot: read it now.
  return rows[0]?.id ?? (await db.query<{ id: string }>('SELECT id FROM toygres.control_plane')).rows[0]!.id
}

export interface StoredAuthority { certificate_pem: string, private_key_ciphertext: string }

/** Stores `candidate` unless a CA exists; returns the CA that holds. */
export async function claimAuthority (db: Queryable, candidate: StoredAuthority): Promise<StoredAuthority> {
  const { rows } = await db.query<StoredAuthority>(
    `WITH ins AS (
       INSERT INTO toygres.certificate_authority (certificate_pem, private_key_ciphertext) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING certificate_pem, private_key_ciphertext)
     SELECT certificate_pem, private_key_ciphertext FROM ins
     UNION ALL SELECT certificate_pem, private_key_ciphertext FROM toygres.certificate_authority LIMIT 1`,
    [candidate.certificate_pem, candidate.private_key_ciphertext])
  // A concurrent first insert commits after this statement's snapshot: read it now.
  return rows[0] ?? (await readAuthority(db))!
}

export async function readAuthority (db: Queryable): Promise<StoredAuthority | null> {
  const { rows } = await db.query<StoredAuthority>('SELECT certificate_pem, private_key_ciphertext FROM toygres.certificate_authority')
  return rows[0] ?? null
}
