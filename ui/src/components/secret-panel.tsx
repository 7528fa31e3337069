// The password and the ready-to-paste URI, shown this once, with a clear
// warning. The URI needs the instance's address: until it has one, it
// appears here as soon as it does.
import type { JSX } from 'preact'
import { withPassword } from '../format.ts'
import { secrets } from '../secrets.ts'
import { CopyField } from './copy.tsx'

export function SecretPanel (props: { name: string, connectionString: string | null, onDismiss: () => void }): JSX.Element | null {
  const secret = secrets.get(props.name)
  if (!secret) return null
  const uri = secret.uri ?? (props.connectionString ? withPassword(props.connectionString, secret.password) : null)
  return (
    <section class="secret" aria-labelledby="secret-title">
      <h2 id="secret-title">Save the password now: you will not see it again</h2>
      <p>{secret.why} Toygres stores it sealed and never shows it again: copy it (or the connection URI) somewhere safe before you leave or reload this page.</p>
      <CopyField id="secret-password" label="Password" value={secret.password} secret />
      {uri
        ? <CopyField id="secret-uri" label="Connection URI (with the password)" value={uri} secret />
        : <p class="muted" role="status">The connection URI appears here as soon as the instance has an address.</p>}
      <button type="button" onClick={() => { secrets.forget(props.name); props.onDismiss() }}>I have saved it: hide it</button>
    </section>
  )
}
