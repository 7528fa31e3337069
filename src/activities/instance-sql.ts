// The statements day-2 changes run on an instance itself, as its superuser
// over TLS verified against our CA: ALTER SYSTEM for parameters, ALTER ROLE
// with a SCRAM verifier computed here (so the server, and any statement
// log, only ever sees the verifier), pg_settings and pg_hba_file_rules.
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { parseTarget, withSession } from '../postgres/client.ts'
import { scramVerifier } from '../postgres/scram.ts'
import type { SettingRow } from '../postgres/settings.ts'

export interface InstanceLogin {
  connection_string: string
  password: string
  ca_pem: string
}

const APPLICATION = 'toygres-control-plane'

/**
 * Runs `fn` on one session as the instance's superuser, over TLS verified
 * against `login.ca_pem` when the URL's sslmode is require (as every connection
 * string Toygres makes), then closes it; `signal` ends it at once. Throws a
 * plain Error for a URL that does not parse, and pg's errors (SQLSTATE in
 * `code`).
 */
export function onInstance<T> (login: InstanceLogin, signal: AbortSignal, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  return withSession(parseTarget(login.connection_string), login.password, { signal, applicationName: APPLICATION, caPem: login.ca_pem }, fn)
}

/** The pg_settings rows of `names` (unknown names are absent). */
export async function readSettings (client: pg.Client, names: string[]): Promise<SettingRow[]> {
  const { rows } = await client.query<SettingRow>(
    'SELECT name, vartype, unit, min_val, max_val, enumvals, context FROM pg_settings WHERE name = ANY($1::text[])', [names])
  return rows
}

/**
 * ALTER SYSTEM SET (or RESET, for null) each parameter, then reload. Returns
 * whether any setting now waits for a restart (pg_settings.pending_restart),
 * and the values the server reports.
 */
export async function alterSystem (client: pg.Client, parameters: Record<string, string | null>, signal: AbortSignal): Promise<{ pending_restart: boolean, settings: Record<string, string> }> {
  const before = await confLoadTime(client)
  for (const [name, value] of Object.entries(parameters)) {
    // Identifiers and literals cannot be parameters in utility statements: quote them as the server does.
    const ident = (await client.query<{ q: string }>('SELECT quote_ident($1) AS q', [name])).rows[0]!.q
    if (value === null) {
      await client.query(`ALTER SYSTEM RESET ${ident}`)
    } else {
      const literal = (await client.query<{ q: string }>('SELECT quote_literal($1) AS q', [value])).rows[0]!.q
      await client.query(`ALTER SYSTEM SET ${ident} = ${literal}`)
    }
  }
  await client.query('SELECT pg_reload_conf()')
  await reloaded(client, before, signal)
  const { rows } = await client.query<{ name: string, setting: string, unit: string | null, pending: boolean }>(
    'SELECT name, setting, unit, pending_restart AS pending FROM pg_settings WHERE name = ANY($1::text[]) OR pending_restart',
    [Object.keys(parameters)])
  return {
    pending_restart: rows.some(r => r.pending),
    settings: Object.fromEntries(rows.filter(r => r.name in parameters).map(r => [r.name, r.unit ? `${r.setting}${r.unit}` : r.setting]))
  }
}

/**
 * Waits until this session has re-read the configuration files since
 * `before` (confLoadTime() taken before pg_reload_conf(); the reload is
 * asynchronous: the postmaster re-reads them, then signals every backend);
 * pg_conf_load_time() is this session's own load time. Polls every 50 ms;
 * throws after 10 s, or an AbortError when `signal` aborts.
 */
export async function reloaded (client: pg.Client, before: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const { rows } = await client.query<{ done: boolean }>('SELECT pg_conf_load_time() > $1::timestamptz AS done', [before])
    if (rows[0]!.done) return
    if (Date.now() > deadline) throw new Error('the server did not reload its configuration within 10 s')
    await sleep(50, undefined, { signal })
  }
}

/**
 * This session's configuration load time, as text: a JavaScript Date keeps
 * milliseconds only, and the server's microseconds made "later than before"
 * true at once, so a reload was never waited for.
 */
export async function confLoadTime (client: pg.Client): Promise<string> {
  return (await client.query<{ t: string }>('SELECT pg_conf_load_time()::text AS t')).rows[0]!.t
}

/** Reloads the configuration and waits until the server has; see reloaded(). */
export async function reloadConfiguration (client: pg.Client, signal: AbortSignal): Promise<void> {
  const before = await confLoadTime(client)
  await client.query('SELECT pg_reload_conf()')
  await reloaded(client, before, signal)
}

/** Sets the superuser's password as a SCRAM verifier: the plaintext never reaches the server. */
export async function setRolePassword (client: pg.Client, password: string): Promise<void> {
  const verifier = scramVerifier(password)
  await client.query(`ALTER ROLE CURRENT_USER PASSWORD '${verifier}'`)
}

/** A fingerprint of the pg_hba.conf rules the server reads now (pg_hba_file_rules reads the file). */
export async function hbaFingerprint (client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ f: string }>(
    "SELECT coalesce(string_agg(concat_ws(' ', type, database::text, user_name::text, address, netmask, auth_method, error), E'\\n' ORDER BY rule_number), '') AS f FROM pg_hba_file_rules")
  return rows[0]!.f
}
