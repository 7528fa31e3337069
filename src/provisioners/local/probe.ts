// What does a server say to a client that introduces itself? Answered at the
// protocol level, without a password: send a StartupMessage and read the
// first reply. An authentication request means the server is up and would
// let a client in; SQLSTATE 57P03 means it is still starting (or shutting
// down). We hang up before answering any challenge, which the server does
// not even log.
import { connect } from 'node:net'

export type ProbeResult = { ready: true } | { ready: false, reason: string }

export type StartupReply =
  | { kind: 'authentication' }
  | { kind: 'error', code: string, message: string }
  | { kind: 'no-answer', reason: string }

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

/** The server's first reply to a plain-TCP startup as `user`. */
export function startupReply (port: number, user = 'postgres', host = '127.0.0.1', timeoutMs = 2000, signal?: AbortSignal): Promise<StartupReply> {
  return new Promise(resolve => {
    let buffered = Buffer.alloc(0)
    const socket = connect({ port, host })
    const done = (result: StartupReply): void => {
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve(result)
    }
    const onAbort = (): void => done({ kind: 'no-answer', reason: 'aborted' })
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.setTimeout(timeoutMs, () => done({ kind: 'no-answer', reason: 'no answer from the server' }))
    socket.once('error', err => done({ kind: 'no-answer', reason: (err as NodeJS.ErrnoException).code ?? err.message }))
    socket.once('connect', () => socket.write(startupMessage(user, 'postgres')))
    socket.on('data', chunk => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 5) return
      const type = String.fromCharCode(buffered[0]!)
      if (type === 'R') return done({ kind: 'authentication' })
      if (type !== 'E') return done({ kind: 'no-answer', reason: `unexpected message type ${type}` })
      const length = buffered.readInt32BE(1)
      if (buffered.length < 1 + length) return
      done({ kind: 'error', ...errorFields(buffered.subarray(5, 1 + length)) })
    })
    socket.once('end', () => done({ kind: 'no-answer', reason: 'connection closed by the server' }))
  })
}

/**
 * Whether a server on `host:port` accepts connections, by its first reply to a
 * startup (startupReply): ready unless there was no answer within `timeoutMs`
 * ms (or `signal` aborted) or the answer was SQLSTATE 57P03 cannot_connect_now
 * (starting up, shutting down;
 * https://www.postgresql.org/docs/current/errcodes-appendix.html). Never
 * rejects.
 */
export async function acceptsConnections (port: number, host = '127.0.0.1', timeoutMs = 2000, signal?: AbortSignal): Promise<ProbeResult> {
  const reply = await startupReply(port, 'postgres', host, timeoutMs, signal)
  if (reply.kind === 'no-answer') return { ready: false, reason: reply.reason }
  // Anything but "starting up / shutting down" comes from a server that accepts connections.
  if (reply.kind === 'error' && reply.code === '57P03') return { ready: false, reason: `${reply.message} (57P03)` }
  return { ready: true }
}
