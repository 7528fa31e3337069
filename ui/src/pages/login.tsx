// The API token, checked against the API before it is kept (in session
// storage: gone when the tab closes; never in a URL).
import type { JSX } from 'preact'
import { useState } from 'preact/hooks'
import { describe, token, tokenWorks } from '../api.ts'
import { useTitle } from '../hooks.ts'

export function Login (props: { reason: string, onSignedIn: () => void }): JSX.Element {
  useTitle('Sign in')
  const [value, setValue] = useState('')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setError('')
    if (!value.trim()) return setError('Enter the API token (TOYGRES_API_TOKEN).')
    setBusy(true)
    try {
      if (await tokenWorks(value.trim())) {
        token.set(value.trim())
        props.onSignedIn()
        return
      }
      setError('That token is not valid: the API refused it (401 Unauthorized). Check TOYGRES_API_TOKEN on the server and try again.')
    } catch (err) {
      setError(describe(err))
    }
    setBusy(false)
  }
  return (
    <section class="login" aria-labelledby="login-title">
      <h1 id="login-title">Sign in to Toygres</h1>
      <p>This control plane asks for its API token (the server's <code>TOYGRES_API_TOKEN</code>). It is kept in this tab's session storage until you sign out or close the tab.</p>
      {props.reason && !error && <p class="notice" role="status">{props.reason}</p>}
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="token">API token</label>
          <input id="token" type="password" autocomplete="current-password" value={value} onInput={e => setValue(e.currentTarget.value)}
            aria-invalid={error ? true : undefined} aria-describedby={error ? 'token-error' : undefined} />
          {error && <p id="token-error" class="error" role="alert">{error}</p>}
        </div>
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Checking…' : 'Sign in'}</button>
      </form>
    </section>
  )
}
