// Is a server accepting connections? Answered at the protocol level, without
// a password: send a StartupMessage and read the first reply. An
// authentication request means the server is up and would let a client in;
// SQLSTATE 57P03 means it is still starting (or shutting down). We hang up
// before answering the SCRAM challenge, which the server does not even log.
import { connect } from 'node:net'

export type ProbeResult = { ready: true } | { ready: false, reason: string }

function startupMessage (user: string, database: string): Buffer {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`)
  const header = Buffer.alloc(8)
  header.writeInt32BE(8 + params.length, 0)
  header.writeInt32BE(196608, 4) // protocol 3.0
  return Buffer.concat([header, params])
}

/** SQLSTATE and message of an ErrorResponse body ('C' and 'M' fields). */
function errorFields (body: Buffer): { code: string, message: string } {
  const fields: Record<string, string> = {}
  for (const part of body.toString('utf8').split('\0')) {
    if (part.length > 1) fields[part[0]!] = part.slice(1)
  }
  return { code: fields.C ?? '', message: fields.M ?? '' }
}

export function probe (port: number, host = '127.0.0.1', timeoutMs = 2000, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise(resolve => {
    let buffered = Buffer.alloc(0)
    const socket = connect({ port, host })
    const done = (result: ProbeResult): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve(result)
    }
    const onAbort = (): void => done({ ready: false, reason: 'aborted' })
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.setTimeout(timeoutMs, () => done({ ready: false, reason: 'no answer from the server' }))
    socket.once('error', err => done({ ready: false, reason: (err as NodeJS.ErrnoException).code ?? err.message }))
    socket.once('connect', () => socket.write(startupMessage('postgres', 'postgres')))
    socket.on('data', chunk => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 5) return
      const type = String.fromCharCode(buffered[0]!)
      if (type === 'R') return done({ ready: true })
      if (type !== 'E') return done({ ready: false, reason: `unexpected message type ${type}` })
      const length = buffered.readInt32BE(1)
      if (buffered.length < 1 + length) return
      const { code, message } = errorFields(buffered.subarray(5, 1 + length))
      // Anything but "starting up / shutting down" comes from a server that accepts connections.
      done(code === '57P03' ? { ready: false, reason: message } : { ready: true })
    })
    socket.once('end', () => done({ ready: false, reason: 'connection closed by the server' }))
  })
}
