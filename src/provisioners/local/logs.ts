// The server's log, as readLogs hands it out. Servers are configured not to
// log statement text (settings.ts), but a superuser can turn that back on,
// and an error message may quote a literal: every line is redacted here on
// its way out, whatever the server wrote.
import { watch, type FSWatcher } from 'node:fs'
import { open, stat } from 'node:fs/promises'

// A string literal: 'a''b', E'...', $tag$...$tag$, also unterminated.
const LITERAL = /E?'(?:[^']|'')*'?|\$([A-Za-z_]*)\$[\s\S]*?(?:\$\1\$|$)/g

/** After the word PASSWORD, every literal: the password may be any of them (`PASSWORD 'a' 'b'` is a syntax error quoted whole). */
function afterPassword (line: string): string {
  const at = line.search(/\bPASSWORD\b/i)
  return at < 0 ? line : line.slice(0, at) + line.slice(at).replace(LITERAL, "'***'")
}

const REDACTIONS: Array<[RegExp, string]> = [
  // A stored verifier allows an offline guessing attack.
  [/SCRAM-SHA-256\$[^'\s"]*/g, 'SCRAM-SHA-256$***'],
  [/\bmd5[0-9a-f]{32}\b/g, 'md5***'],
  // A syntax error quotes the token it stopped at: a string literal may be a password.
  [/(at or near ")(?:E?'|\$)[^"]*"/g, '$1***"']
]

/**
 * `line` with whatever may be a secret replaced by '***': every string literal
 * after the word PASSWORD, SCRAM-SHA-256 and md5 verifiers, and a literal that
 * a syntax error quotes (at or near "..."). The rest is left as it is.
 */
export function redactSecrets (line: string): string {
  return REDACTIONS.reduce((text, [pattern, replacement]) => text.replace(pattern, replacement), afterPassword(line))
}

/** The last `count` lines of `file`, and the byte offset after them. */
export async function lastLines (file: string, count: number): Promise<{ lines: string[], end: number }> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
  if (!handle) return { lines: [], end: 0 }
  try {
    const { size } = await handle.stat()
    let start = size
    let text = ''
    // Read backwards in chunks until there are enough lines (or the start of the file).
    while (start > 0 && text.split('\n').length <= count + 1) {
      const length = Math.min(64 * 1024, start)
      start -= length
      const chunk = Buffer.alloc(length)
      await handle.read(chunk, 0, length, start)
      text = chunk.toString('utf8') + text
    }
    const complete = text.slice(0, text.lastIndexOf('\n') + 1) // a partial last line is read when it is finished
    const lines = complete.split('\n').slice(0, -1)
    return { lines: count > 0 ? lines.slice(-count) : [], end: start + Buffer.byteLength(complete) }
  } finally {
    await handle.close()
  }
}

/**
 * Lines appended to `file` from byte `from` on, as they come, until `signal`
 * aborts or `goneNow()` says the instance is gone. Woken by inotify, with a
 * slow timer as a fallback (a file replaced or removed).
 */
export async function * followLines (file: string, from: number, signal: AbortSignal, goneNow: () => Promise<boolean>): AsyncGenerator<string> {
  let position = from
  let partial = ''
  let changed = false // set by a change that came while we were reading, so it is not slept through
  let wake: (() => void) | undefined
  let watcher: FSWatcher | undefined
  const nudge = (): void => { changed = true; wake?.() }
  const onEvent = (event: string): void => {
    if (event === 'rename') { watcher?.close(); watcher = undefined } // replaced or removed: watch the new one
    nudge()
  }
  signal.addEventListener('abort', nudge, { once: true })
  try {
    while (!signal.aborted) {
      changed = false
      watcher ??= tryWatch(file, onEvent)
      const size = await stat(file).then(s => s.size, () => 0)
      if (size < position) { position = 0; partial = '' } // truncated or replaced
      if (size > position) {
        const handle = await open(file, 'r')
        try {
          const chunk = Buffer.alloc(size - position)
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, position)
          position += bytesRead
          partial += chunk.subarray(0, bytesRead).toString('utf8')
        } finally {
          await handle.close()
        }
        const lines = partial.split('\n')
        partial = lines.pop()!
        for (const line of lines) {
          if (signal.aborted) return
          yield line
        }
        continue
      }
      if (await goneNow()) return
      if (changed || signal.aborted) continue
      await new Promise<void>(resolve => {
        const timer = setTimeout(() => { wake = undefined; resolve() }, 1000)
        wake = () => { clearTimeout(timer); wake = undefined; resolve() }
      })
    }
  } finally {
    signal.removeEventListener('abort', nudge)
    watcher?.close()
  }
}

function tryWatch (file: string, onEvent: (event: string) => void): FSWatcher | undefined {
  try {
    const watcher = watch(file, { persistent: false }, onEvent)
    watcher.on('error', () => {})
    return watcher
  } catch {
    return undefined // not there yet: the timer checks again
  }
}
