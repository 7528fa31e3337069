// Copy to the clipboard, and save as a file: each says what it did, aloud too.
import type { JSX } from 'preact'
import { useState } from 'preact/hooks'

async function writeClipboard (text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text)
  // Plain-HTTP pages on another host have no Clipboard API: the old way.
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.opacity = '0'
  document.body.append(area)
  area.select()
  const ok = document.execCommand('copy')
  area.remove()
  if (!ok) throw new Error('the browser refused to copy')
}

export function CopyButton (props: { text: string, label: string }): JSX.Element {
  const [said, setSaid] = useState('')
  const copy = async (): Promise<void> => {
    try {
      await writeClipboard(props.text)
      setSaid('Copied')
    } catch {
      setSaid('Could not copy: select the text and copy it')
    }
    setTimeout(() => setSaid(''), 2500)
  }
  return (
    <span class="copy">
      <button type="button" class="small" onClick={copy} aria-label={`Copy ${props.label}`}>Copy</button>
      <span class="copied" role="status" aria-live="polite">{said}</span>
    </span>
  )
}

export function download (filename: string, text: string, type = 'text/plain'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** A value to read and copy: a read-only field with its label and a Copy button. */
export function CopyField (props: { id: string, label: string, value: string, secret?: boolean }): JSX.Element {
  const [shown, setShown] = useState(!props.secret)
  return (
    <div class="copy-field">
      <label for={props.id}>{props.label}</label>
      <div class="row">
        <input id={props.id} class="mono" type={(shown ? 'text' : 'password') as 'text'} readOnly value={props.value} onFocus={e => e.currentTarget.select()} />
        {props.secret && <button type="button" class="small" aria-pressed={shown} onClick={() => setShown(s => !s)}>{shown ? 'Hide' : 'Show'}</button>}
        <CopyButton text={props.value} label={props.label} />
      </div>
    </div>
  )
}
