// What can be done to an instance (the day-2 changes and delete), each
// behind a confirmation that names it. The API decides: when it refuses
// (a change already under way, deletion protection), its words show.
import type { JSX } from 'preact'
import { useState } from 'preact/hooks'
import { api, unwrap, type Instance } from '../api.ts'
import { secrets } from '../secrets.ts'
import { Confirm } from './dialog.tsx'

type Kind = 'restart' | 'stop' | 'start' | 'reset-password' | 'parameters' | 'protection' | 'delete'

export function Actions (props: { instance: Instance, onChanged: () => void, onDeleted: () => void }): JSX.Element {
  const i = props.instance
  const [open, setOpen] = useState<Kind | null>(null)
  const [params, setParams] = useState('')
  const [apply, setApply] = useState<'reload' | 'restart'>('reload')
  const path = { params: { path: { name: i.name } } }
  const close = (): void => setOpen(null)
  const stopped = i.state === 'stopped' || i.state === 'stopping'

  const openParams = (): void => {
    setParams(Object.entries(i.parameters).map(([k, v]) => `${k} = ${v}`).join('\n'))
    setOpen('parameters')
  }
  const saveParams = async (): Promise<void> => {
    // One setting per line (values may hold commas).
    const pairs: Record<string, string> = {}
    for (const line of params.split('\n').map(l => l.trim()).filter(Boolean)) {
      const eq = line.indexOf('=')
      if (eq <= 0) throw new Error(`"${line}" is not name = value`)
      pairs[line.slice(0, eq).trim()] = line.slice(eq + 1).trim()
    }
    // Settings removed from the text go back to their defaults (null in a merge patch).
    const patch: Record<string, string | null> = Object.fromEntries(Object.keys(i.parameters).map(k => [k, null]))
    for (const [k, v] of Object.entries(pairs)) patch[k] = v === '' ? null : v
    if (Object.keys(patch).length === 0) throw new Error('Write at least one setting, e.g. work_mem = 64MB')
    unwrap(await api().PATCH('/instances/{name}', { ...path, body: { parameters: patch, apply } }))
    props.onChanged()
  }

  return (
    <div class="actions" role="group" aria-label={`Actions on ${i.name}`}>
      <button type="button" onClick={() => setOpen('restart')}>Restart</button>
      {stopped ? <button type="button" onClick={() => setOpen('start')}>Start</button> : <button type="button" onClick={() => setOpen('stop')}>Stop</button>}
      <button type="button" onClick={() => setOpen('reset-password')}>Reset password</button>
      <button type="button" onClick={openParams}>Parameters</button>
      <button type="button" aria-pressed={i.deletion_protection} onClick={() => setOpen('protection')}>Deletion protection: {i.deletion_protection ? 'on' : 'off'}</button>
      <button type="button" class="danger" onClick={() => setOpen('delete')}>Delete</button>

      {open === 'restart' && (
        <Confirm title={`Restart ${i.name}?`} action={`Restart ${i.name}`} onClose={close}
          onConfirm={async () => { unwrap(await api().POST('/instances/{name}/restart', path)); props.onChanged() }}>
          <p>The server restarts on the same data. Connections drop for a moment.</p>
        </Confirm>
      )}
      {open === 'stop' && (
        <Confirm title={`Stop ${i.name}?`} action={`Stop ${i.name}`} onClose={close}
          onConfirm={async () => { unwrap(await api().POST('/instances/{name}/stop', path)); props.onChanged() }}>
          <p>The server stops and its data stays. Health checks pause until you start it again.</p>
        </Confirm>
      )}
      {open === 'start' && (
        <Confirm title={`Start ${i.name}?`} action={`Start ${i.name}`} onClose={close}
          onConfirm={async () => { unwrap(await api().POST('/instances/{name}/start', path)); props.onChanged() }}>
          <p>The server starts on its data.</p>
        </Confirm>
      )}
      {open === 'reset-password' && (
        <Confirm title={`Reset the password of ${i.name}?`} action={`Reset the password of ${i.name}`} onClose={close}
          onConfirm={async () => {
            const r = unwrap(await api().POST('/instances/{name}/reset-password', { ...path, body: {} }))
            secrets.keep(i.name, r.password, r.connection_uri, 'This is the new password; the old one stops working when the reset succeeds.')
            props.onChanged()
          }}>
          <p>A new password is generated and shown once. The old one stops working when the change succeeds.</p>
        </Confirm>
      )}
      {open === 'parameters' && (
        <Confirm title={`Parameters of ${i.name}`} action={`Apply to ${i.name}`} onClose={close} onConfirm={saveParams}>
          <div class="field">
            <label for="parameters">postgresql.conf settings</label>
            <textarea id="parameters" rows={6} class="mono" spellcheck={false} value={params} onInput={e => setParams(e.currentTarget.value)} aria-describedby="parameters-hint" />
            <p id="parameters-hint" class="hint">One per line, e.g. <code>work_mem = 64MB</code>. Remove a line (or leave its value empty) to go back to the default. The server checks names and values.</p>
          </div>
          <div class="field">
            <label for="apply">When a setting needs a restart</label>
            <select id="apply" value={apply} onChange={e => setApply(e.currentTarget.value as 'reload' | 'restart')}>
              <option value="reload">Reload only (restart later)</option>
              <option value="restart">Restart the server</option>
            </select>
          </div>
        </Confirm>
      )}
      {open === 'protection' && (
        <Confirm title={`${i.deletion_protection ? 'Turn off' : 'Turn on'} deletion protection for ${i.name}?`} action={`${i.deletion_protection ? 'Turn off' : 'Turn on'} for ${i.name}`} onClose={close}
          onConfirm={async () => { unwrap(await api().PATCH('/instances/{name}', { ...path, body: { deletion_protection: !i.deletion_protection } })); props.onChanged() }}>
          <p>{i.deletion_protection ? 'Deleting the instance becomes possible again.' : 'While it is on, deleting the instance is refused.'}</p>
        </Confirm>
      )}
      {open === 'delete' && (
        <Confirm title={`Delete ${i.name}?`} action={`Delete ${i.name}`} danger typeToConfirm={i.name} onClose={close}
          onConfirm={async () => { unwrap(await api().DELETE('/instances/{name}', path)); props.onDeleted() }}>
          <p>The server and <strong>all its data</strong> are removed. This cannot be undone.</p>
          {i.deletion_protection && <p class="notice">Deletion protection is on: the API will refuse until you turn it off.</p>}
        </Confirm>
      )}
    </div>
  )
}
