// A confirmation that names the instance: a modal <dialog> (focus stays in
// it, Escape closes it), the API's answer shown in it when it refuses.
import type { ComponentChildren, JSX } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { describe } from '../api.ts'

export interface ConfirmProps {
  title: string
  /** The confirm button's words, e.g. "Restart orders-db". */
  action: string
  danger?: boolean
  /** When set, the user must type this (the instance's name) to confirm. */
  typeToConfirm?: string
  children?: ComponentChildren
  onConfirm: () => Promise<void>
  onClose: () => void
}

export function Confirm (props: ConfirmProps): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null)
  const [typed, setTyped] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  useEffect(() => {
    const dialog = ref.current!
    dialog.showModal()
    return () => dialog.close()
  }, [])
  const blocked = props.typeToConfirm !== undefined && typed !== props.typeToConfirm
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (blocked || busy) return
    setBusy(true)
    setError('')
    try {
      await props.onConfirm()
      props.onClose()
    } catch (err) {
      setError(describe(err))
      setBusy(false)
    }
  }
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <h2 id="confirm-title">{props.title}</h2>
        {props.children}
        {props.typeToConfirm !== undefined && (
          <div class="field">
            <label for="confirm-name">Type <strong class="mono">{props.typeToConfirm}</strong> to confirm</label>
            <input id="confirm-name" autocomplete="off" spellcheck={false} value={typed} onInput={e => setTyped(e.currentTarget.value)} />
          </div>
        )}
        {error && <p class="error" role="alert">{error}</p>}
        <div class="buttons">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={blocked || busy} aria-disabled={blocked || busy}>{busy ? 'Working…' : props.action}</button>
        </div>
      </form>
    </dialog>
  )
}
