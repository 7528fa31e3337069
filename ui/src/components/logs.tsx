// The server's log (GET /instances/{name}/logs): the last lines, then new
// ones as they are written while "Follow" is on.
import type { JSX } from 'preact'
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { api, describe, unwrap } from '../api.ts'

const TAIL = 200
const KEEP = 2000

export function Logs (props: { name: string }): JSX.Element {
  const [follow, setFollow] = useState(true)
  const [lines, setLines] = useState<string[]>([])
  const [note, setNote] = useState('')
  const [reload, setReload] = useState(0)
  const pre = useRef<HTMLPreElement>(null)
  const pinned = useRef(true)

  useEffect(() => {
    const stop = new AbortController()
    setLines([])
    setNote(follow ? 'Following…' : 'Loading…')
    void (async () => {
      try {
        const result = await api().GET('/instances/{name}/logs', { params: { path: { name: props.name }, query: { tail: TAIL, follow } }, parseAs: 'stream', signal: stop.signal })
        const body = unwrap(result) as ReadableStream<Uint8Array> | null
        if (!body) return
        const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader()
        let rest = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          const parts = (rest + value).split('\n')
          rest = parts.pop() ?? ''
          if (parts.length) setLines(old => [...old, ...parts].slice(-KEEP))
          if (follow) setNote('Following: new lines appear as the server writes them.')
        }
        setNote(follow ? 'The log ended: the server stopped or the instance is gone.' : `The last ${TAIL} lines.`)
      } catch (err) {
        if (!stop.signal.aborted) setNote(describe(err))
      }
    })()
    return () => stop.abort()
  }, [props.name, follow, reload])

  useLayoutEffect(() => {
    const el = pre.current
    if (el && follow && pinned.current) el.scrollTop = el.scrollHeight
  }, [lines])

  return (
    <div class="logs">
      <div class="log-controls">
        <input id="log-follow" type="checkbox" checked={follow} onChange={e => setFollow(e.currentTarget.checked)} />
        <label for="log-follow">Follow</label>
        <button type="button" class="small" onClick={() => setReload(n => n + 1)}>Reload</button>
        <span class="muted" role="status">{note}</span>
      </div>
      <pre ref={pre} class="log" tabIndex={0} aria-label={`Server log of ${props.name}`}
        onScroll={e => { const el = e.currentTarget; pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40 }}>
        {lines.length ? lines.join('\n') : <span class="muted">No lines yet.</span>}
      </pre>
    </div>
  )
}
