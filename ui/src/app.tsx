// The frame: a skip link, the header with its navigation, the page. Before
// anything else, whether the API wants a token and whether ours works.
import type { JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { describe, onUnauthorized, token, tokenWorks } from './api.ts'
import { Login } from './pages/login.tsx'
import { Instances } from './pages/instances.tsx'
import { Create } from './pages/create.tsx'
import { InstancePage } from './pages/instance.tsx'
import { Operations, OperationPage } from './pages/operations.tsx'
import { Link, paths, useLocation } from './router.tsx'

type Gate = { kind: 'checking' } | { kind: 'open', needsToken: boolean } | { kind: 'login', reason: string } | { kind: 'down', reason: string }

export function App (): JSX.Element {
  const [gate, setGate] = useState<Gate>({ kind: 'checking' })
  const check = async (): Promise<void> => {
    try {
      if (await tokenWorks(token.get())) setGate({ kind: 'open', needsToken: token.get() !== null })
      else if (await tokenWorks(null)) { token.clear(); setGate({ kind: 'open', needsToken: false }) } else setGate({ kind: 'login', reason: token.get() ? 'The saved token is no longer accepted. Sign in again.' : '' })
    } catch (err) {
      setGate({ kind: 'down', reason: describe(err) })
    }
  }
  useEffect(() => { void check() }, [])
  useEffect(() => onUnauthorized(() => setGate({ kind: 'login', reason: 'The API refused the token (401): it is wrong or has been changed. Sign in again.' })), [])

  if (gate.kind === 'checking') return <Shell><p role="status">Connecting to the control plane…</p></Shell>
  if (gate.kind === 'down') {
    return (
      <Shell>
        <h1>The control plane did not answer</h1>
        <p class="error" role="alert">{gate.reason}</p>
        <button type="button" onClick={() => { setGate({ kind: 'checking' }); void check() }}>Try again</button>
      </Shell>
    )
  }
  if (gate.kind === 'login') return <Shell><Login reason={gate.reason} onSignedIn={() => setGate({ kind: 'open', needsToken: true })} /></Shell>
  const signOut = gate.needsToken ? () => { token.clear(); setGate({ kind: 'login', reason: 'Signed out.' }) } : undefined
  return <Shell signOut={signOut} nav><Routes /></Shell>
}

function Routes (): JSX.Element {
  const { path } = useLocation()
  let m: RegExpExecArray | null
  if (path === '/' || path === '/ui/' || path === '/ui/instances') return <Instances />
  if (path === paths.create) return <Create />
  if ((m = /^\/ui\/instances\/([^/]+)$/.exec(path))) return <InstancePage key={m[1]} name={decodeURIComponent(m[1]!)} />
  if (path === paths.operations) return <Operations />
  if ((m = /^\/ui\/operations\/([^/]+)$/.exec(path))) return <OperationPage key={m[1]} id={decodeURIComponent(m[1]!)} />
  return (
    <>
      <h1>Not found</h1>
      <p>There is no page at <code>{path}</code>. <Link href={paths.list}>See the instances</Link>.</p>
    </>
  )
}

function Shell (props: { children: JSX.Element | JSX.Element[], nav?: boolean, signOut?: (() => void) | undefined }): JSX.Element {
  const { path } = useLocation()
  const here = (p: string, exact = false): 'page' | undefined => (exact ? path === p : path.startsWith(p)) ? 'page' : undefined
  return (
    <>
      <a class="skip" href="#main">Skip to the content</a>
      <header class="top">
        <Link href={paths.list} class="brand"><img src="/ui/favicon.svg" alt="" width={24} height={24} /> Toygres</Link>
        {props.nav && (
          <nav aria-label="Main">
            <ul>
              <li><Link href={paths.list} aria-current={here('/', true) ?? here('/ui/instances')}>Instances</Link></li>
              <li><Link href={paths.create} aria-current={here(paths.create, true)}>Create</Link></li>
              <li><Link href={paths.operations} aria-current={here(paths.operations)}>Operations</Link></li>
              <li><a href="/docs">API docs</a></li>
            </ul>
          </nav>
        )}
        {props.signOut && <button type="button" class="small signout" onClick={props.signOut}>Sign out</button>}
      </header>
      <main id="main" tabIndex={-1}>{props.children}</main>
    </>
  )
}
