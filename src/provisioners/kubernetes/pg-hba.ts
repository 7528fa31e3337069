// pg_hba.conf for an instance: TLS and a password over the network, from the
// allowed networks only, plus the networks the control plane itself connects
// from (its health checks and settings checks go through the ClusterIP
// Service, from its pods' addresses: allowed_cidrs restricts users, not the
// control plane). Only `hostssl` lines exist, so a connection without TLS
// matches no line and is refused ("no pg_hba.conf entry ... no encryption");
// a client outside every allowed network likewise.
// https://www.postgresql.org/docs/current/auth-pg-hba-conf.html
import { isIP } from 'node:net'

/** Everywhere, when no network is named (allowed_cidrs null). */
const ANYWHERE = ['0.0.0.0/0', '::/0']

/**
 * pg_hba.conf for an instance, as text ending in a newline: `local all all
 * peer`, one `hostssl ... scram-sha-256` line per allowed network (0.0.0.0/0
 * and ::/0 when `allowedCidrs` is null, none when it is []), then the control
 * plane's networks not listed yet (omitted when null already lets everyone in).
 * Networks are written as given: check them first (assertValidCidrs).
 */
export function pgHbaConf (allowedCidrs: string[] | null, controlPlaneCidrs: string[]): string {
  const networks = allowedCidrs ?? ANYWHERE
  const own = allowedCidrs === null ? [] : controlPlaneCidrs.filter(c => !networks.includes(c))
  return [
    '# Written by Toygres from the instance\'s allowed_cidrs; changes here are overwritten.',
    '# Inside the container: the OS user postgres as the role postgres (the image\'s',
    '# entrypoint initialises the database over this socket).',
    'local    all  all                              peer',
    // An empty allowed list keeps only the socket and the control plane: no user can connect over the network.
    ...networks.map(n => `hostssl  all  all  ${n.padEnd(28)} scram-sha-256`),
    ...(own.length > 0 ? ['# The control plane (TOYGRES_K8S_CONTROL_PLANE_CIDRS): health checks and settings checks.'] : []),
    ...own.map(n => `hostssl  all  all  ${n.padEnd(28)} scram-sha-256`),
    ''
  ].join('\n')
}

/** The networks a pg_hba.conf lets in over TLS, in order (for tests and for the caller's "the file shows the new rules"). */
export function hostsslNetworks (conf: string): string[] {
  return conf.split('\n').map(l => l.trim().split(/\s+/)).filter(f => f[0] === 'hostssl' && f[3] && isIP(f[3].split('/')[0]!) !== 0).map(f => f[3]!)
}
