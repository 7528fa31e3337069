// Loopback addresses handed out as LoadBalancer ingress IPs. Test files run in
// parallel processes, each with its own fake, so a candidate is probed (can
// port 5432 be bound on it?) and the scan starts at a per-process offset.
import { createServer } from 'node:net'

function canBind (host: string, port: number): Promise<boolean> {
  return new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, host, () => s.close(() => resolve(true)))
  })
}

export class IpPool {
  #used = new Set<string>()
  #next = 2 + (process.pid % 200)

  /** 127.0.0.2–127.0.0.254: never 127.0.0.1, where the machine's own PostgreSQL listens. */
  async allocate (probePort?: number): Promise<string> {
    for (let i = 0; i < 253; i++) {
      const last = 2 + ((this.#next + i - 2) % 253)
      const ip = `127.0.0.${last}`
      if (this.#used.has(ip)) continue
      this.#used.add(ip)
      if (probePort !== undefined && !(await canBind(ip, probePort))) { this.#used.delete(ip); continue }
      this.#next = last + 1
      return ip
    }
    throw new Error('fake kube-api: no free loopback address for a LoadBalancer')
  }

  release (ip: string): void { this.#used.delete(ip) }
}

/** ClusterIPs look like a service CIDR inside 127/8, and nothing ever dials them. */
export function clusterIpFor (n: number): string {
  return `127.96.${(n >> 8) & 255}.${n & 255}`
}
