import { createServer } from 'node:net'

/** True when nothing (ours or anyone's) listens on 127.0.0.1:port. */
export function canListen (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}
