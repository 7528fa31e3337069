// Port reservations shared by every process using the same home.
// A reservation is a symlink `ports/<port>` whose target names its owner
// (`<namespace>/<name>/<instance id>`): symlink(2) either creates it whole or
// fails with EEXIST, so two processes can never hold the same port, and the
// owner is readable without a lock. Only the owner ever removes one.
import { mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { canListen } from '../../postgres/listen.ts'
import { PermanentProvisionerError } from '../provisioner.ts'

export { canListen } from '../../postgres/listen.ts'

export interface PortRange { readonly min: number, readonly max: number }

const portsDir = (home: string): string => join(home, 'ports')

/** Ports currently reserved for `owner` (normally one; more only after a crash). */
export async function reservationsOf (home: string, owner: string): Promise<number[]> {
  let names: string[]
  try {
    names = await readdir(portsDir(home))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const owned: number[] = []
  for (const name of names) {
    const target = await readlink(join(portsDir(home), name)).catch(() => undefined)
    if (target === owner) owned.push(Number(name))
  }
  return owned.sort((a, b) => a - b)
}

/**
 * Reserves a port for `owner`: an earlier reservation of the same owner (a
 * crash between reserving and recording it) is reused; otherwise the lowest
 * port in the range that is neither reserved nor in use by another program.
 */
export async function reservePort (home: string, owner: string, range: PortRange): Promise<number> {
  const [earlier] = await reservationsOf(home, owner)
  if (earlier !== undefined) return earlier
  await mkdir(portsDir(home), { recursive: true, mode: 0o755 })
  for (let port = range.min; port <= range.max; port++) {
    const file = join(portsDir(home), String(port))
    try {
      await symlink(owner, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw err
    }
    if (await canListen(port)) return port
    await rm(file, { force: true }) // someone else's server: leave the port to them
  }
  throw new PermanentProvisionerError(`no free port left in ${range.min}-${range.max}: raise TOYGRES_LOCAL_PORT_MAX or delete instances`)
}

/** Removes the reservation of `port` if `owner` holds it; someone else's is left alone. */
export async function releasePort (home: string, port: number, owner: string): Promise<boolean> {
  const file = join(portsDir(home), String(port))
  if (await readlink(file).catch(() => undefined) !== owner) return false
  await rm(file, { force: true })
  return true
}

/** Releases every reservation held by `owner`; returns how many there were. */
export async function releasePortsOf (home: string, owner: string): Promise<number> {
  const owned = await reservationsOf(home, owner)
  for (const port of owned) await releasePort(home, port, owner)
  return owned.length
}
