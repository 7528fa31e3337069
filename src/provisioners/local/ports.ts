// Port reservations shared by every process using the same data directory.
// A reservation is a symlink `ports/<port>` whose target names the instance:
// symlink(2) either creates it whole or fails with EEXIST, so two processes
// can never hold the same port, and the owner is readable without a lock.
import { mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'

export interface PortRange { readonly min: number, readonly max: number }

const portsDir = (dataDir: string): string => join(dataDir, 'ports')

/** True when nothing (ours or anyone's) listens on 127.0.0.1:port. */
export function canListen (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** Ports currently reserved for `key` (normally one; more only after a crash). */
export async function reservationsOf (dataDir: string, key: string): Promise<number[]> {
  let names: string[]
  try {
    names = await readdir(portsDir(dataDir))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const owned: number[] = []
  for (const name of names) {
    const target = await readlink(join(portsDir(dataDir), name)).catch(() => undefined)
    if (target === key) owned.push(Number(name))
  }
  return owned.sort((a, b) => a - b)
}

/**
 * Reserves a port for `key`: an earlier reservation of the same key (a crash
 * between reserving and recording it) is reused; otherwise the lowest port in
 * the range that is neither reserved nor in use by another program.
 */
export async function reservePort (dataDir: string, key: string, range: PortRange): Promise<number> {
  const [earlier] = await reservationsOf(dataDir, key)
  if (earlier !== undefined) return earlier
  await mkdir(portsDir(dataDir), { recursive: true, mode: 0o755 })
  for (let port = range.min; port <= range.max; port++) {
    const file = join(portsDir(dataDir), String(port))
    try {
      await symlink(key, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw err
    }
    if (await canListen(port)) return port
    await rm(file, { force: true }) // someone else's server: leave the port to them
  }
  throw new Error(`no free port left in ${range.min}-${range.max} for ${key}`)
}

export async function releasePort (dataDir: string, port: number): Promise<void> {
  await rm(join(portsDir(dataDir), String(port)), { force: true })
}

/** Releases every reservation held by `key`; returns how many there were. */
export async function releasePortsOf (dataDir: string, key: string): Promise<number> {
  const owned = await reservationsOf(dataDir, key)
  for (const port of owned) await releasePort(dataDir, port)
  return owned.length
}
