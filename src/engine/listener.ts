// One dedicated connection per engine LISTENing on the engine's channel:
// cancel requests abort running steps at once, and finishes wake waitFor().
// A lost connection is retried; meanwhile checkpoints still report cancels
// and waitFor() still polls, so NOTIFY only ever makes things faster.
import pg from 'pg'
import type { Logger } from '../logging.ts'
import { CHANNEL } from './sql/operations.ts'

/** 'wake': something of orchestration `queue` is due on its row; 'jobs': a start job for it was sent. */
export type Notice = { kind: 'cancel' | 'finish' | 'trace', operationId: string } | { kind: 'wake', queue: string } | { kind: 'jobs', queue: string }

export class Listener {
  #config: pg.ClientConfig
  #onNotice: (n: Notice) => void
  #log: Logger
  #client: pg.Client | null = null
  #closed = false
  #retry: NodeJS.Timeout | undefined

  constructor (config: pg.ClientConfig, onNotice: (n: Notice) => void, log: Logger) {
    this.#config = config
    this.#onNotice = onNotice
    this.#log = log
  }

  async start (): Promise<void> {
    const client = new pg.Client({ ...this.#config, application_name: 'toygres-engine-listener' })
    client.on('notification', msg => {
      const payload = msg.payload ?? ''
      if (payload.startsWith('w:')) { this.#onNotice({ kind: 'wake', queue: payload.slice(2) }); return }
      if (payload.startsWith('j:')) { this.#onNotice({ kind: 'jobs', queue: payload.slice(2) }); return }
      const kind = payload.startsWith('c:') ? 'cancel' : payload.startsWith('f:') ? 'finish' : payload.startsWith('e:') ? 'trace' : null
      if (kind) this.#onNotice({ kind, operationId: payload.slice(2) })
    })
    client.on('error', err => {
      this.#log.warn({ err }, 'engine listener connection failed; reconnecting')
      this.#reconnect(client)
    })
    client.on('end', () => this.#reconnect(client))
    await client.connect()
    await client.query(`LISTEN ${CHANNEL}`)
    if (this.#closed) { await client.end(); return }
    this.#client = client
  }

  #reconnect (client: pg.Client): void {
    if (this.#closed || this.#client !== client) return
    this.#client = null
    client.end().catch(() => {})
    this.#retry = setTimeout(() => {
      this.start().catch(err => { this.#log.warn({ err }, 'engine listener reconnect failed'); this.#retryLater() })
    }, 1000)
  }

  #retryLater (): void {
    if (this.#closed) return
    this.#retry = setTimeout(() => { this.start().catch(() => this.#retryLater()) }, 1000)
  }

  async close (): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    const client = this.#client
    this.#client = null
    if (client) await client.end().catch(() => {})
  }
}
