// Create one instance, or several with the same settings (POST
// /instances/batch). Every field the API takes; the API validates, and its
// messages appear next to the fields they name. The generated password is
// shown once, on the new instance's page (or in the results, for several).
import type { JSX } from 'preact'
import { useState } from 'preact/hooks'
import { api, describe, ProblemError, unwrap, type Problem, type paths as ApiPaths } from '../api.ts'
import { CopyButton } from '../components/copy.tsx'
import { parsePairs } from '../format.ts'
import { useTitle } from '../hooks.ts'
import { Link, navigate, paths } from '../router.tsx'
import { secrets } from '../secrets.ts'

type CreateBody = ApiPaths['/instances']['post']['requestBody']['content']['application/json']
type Version = NonNullable<CreateBody['postgres_version']>
// Every version the API takes, and only those: typecheck fails when the generated client's list changes.
const VERSIONS: Record<Version, true> = { 18: true, 17: true, 16: true, 15: true }
const FIELDS = ['name', 'password', 'postgres_version', 'storage_size_gb', 'namespace', 'use_load_balancer', 'dns_label', 'allowed_cidrs', 'labels', 'deletion_protection'] as const
type Field = typeof FIELDS[number]
type Errors = Partial<Record<Field | 'form', string[]>>

interface Draft {
  names: string, password: string, postgres_version: Version, storage_size_gb: string, namespace: string,
  use_load_balancer: boolean, dns_label: string, allowed_cidrs: string, labels: string, deletion_protection: boolean
}

/** The API's field errors (`body.labels.env`, `body.items.2.allowed_cidrs.0`), each placed by its field. */
function place (problem: Problem, cidrs: string[]): Errors {
  const out: Errors = {}
  const add = (f: Field | 'form', m: string): void => { (out[f] ??= []).push(m) }
  for (const e of problem.errors ?? []) {
    const parts = e.field.replace(/^body\.(items\.\d+\.)?/, '').split('.')
    const field = parts[0] as Field
    if (!FIELDS.includes(field)) { add('form', `${e.field} ${e.message}`); continue }
    if (field === 'allowed_cidrs' && parts[1] !== undefined) add(field, `"${cidrs[Number(parts[1])] ?? parts[1]}" ${e.message}`)
    else if (field === 'labels' && parts[1] !== undefined) add(field, `${parts.slice(1).join('.')}: ${e.message}`)
    else add(field, e.message)
  }
  if (!problem.errors?.length) add('form', problem.detail)
  return out
}

interface BatchResult { index: number, name: string | null, status: number, password?: string, problem?: Problem }

export function Create (): JSX.Element {
  useTitle('Create an instance')
  const [several, setSeveral] = useState(false)
  const [d, setD] = useState<Draft>({ names: '', password: '', postgres_version: '18', storage_size_gb: '10', namespace: 'toygres', use_load_balancer: true, dns_label: '', allowed_cidrs: '', labels: '', deletion_protection: false })
  const [errors, setErrors] = useState<Errors>({})
  const [busy, setBusy] = useState(false)
  const [results, setResults] = useState<BatchResult[] | null>(null)
  // Editing a field clears its message: the next submit asks the API again.
  const set = <K extends keyof Draft>(k: K) => (v: Draft[K]) => {
    setD(prev => ({ ...prev, [k]: v }))
    const field = k === 'names' ? 'name' : k
    setErrors(prev => field in prev ? Object.fromEntries(Object.entries(prev).filter(([f]) => f !== field)) : prev)
  }

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const cidrs = d.allowed_cidrs.split(/[\s,]+/).filter(Boolean)
    const labels = parsePairs(d.labels)
    if (labels.bad.length) {
      setErrors({ labels: labels.bad.map(b => `"${b}" is not key=value`) })
      return focusFirstError()
    }
    const storage = d.storage_size_gb.trim()
    // Sent as typed: the API says what is wrong with a value, in its own words.
    const common = {
      ...(d.password ? { password: d.password } : {}),
      postgres_version: d.postgres_version,
      storage_size_gb: storage === '' ? undefined : /^-?\d+$/.test(storage) ? Number(storage) : (storage as unknown as number),
      namespace: d.namespace.trim() || undefined,
      use_load_balancer: d.use_load_balancer,
      dns_label: d.dns_label.trim() || null,
      ...(cidrs.length ? { allowed_cidrs: cidrs } : {}),
      labels: labels.pairs,
      deletion_protection: d.deletion_protection
    } satisfies Omit<CreateBody, 'name'>
    setBusy(true)
    setErrors({})
    setResults(null)
    try {
      if (!several) {
        const created = unwrap(await api().POST('/instances', { body: { name: d.names.trim(), ...common } }))
        if (created.password) secrets.keep(created.name, created.password, created.connection_uri, 'Toygres generated this password for the new instance.')
        else if (d.password) secrets.keep(created.name, d.password, created.connection_uri, 'This is the password you chose.')
        navigate(paths.instance(created.name))
        window.scrollTo(0, 0)
        return
      }
      const names = d.names.split(/[\s,]+/).filter(Boolean)
      if (names.length === 0) { setErrors({ name: ['enter at least one name'] }); setBusy(false); return focusFirstError() }
      const out = unwrap(await api().POST('/instances/batch', { body: { items: names.map(name => ({ name, ...common })) } }))
      setResults(out.items as BatchResult[])
      // One message per field for the items that failed, each naming its instance.
      const placed: Errors = {}
      for (const item of out.items as BatchResult[]) {
        if (!item.problem) continue
        for (const [f, ms] of Object.entries(place(item.problem, cidrs))) (placed[f as Field] ??= []).push(...ms.map(m => `${item.name ?? `item ${item.index + 1}`}: ${m}`))
      }
      setErrors(placed)
    } catch (err) {
      setErrors(err instanceof ProblemError ? place(err.problem, cidrs) : { form: [describe(err)] })
      focusFirstError()
    }
    setBusy(false)
  }

  const err = (f: Field): JSX.Element | null => errors[f]?.length
    ? <ul id={`${f}-error`} class="error field-error">{errors[f]!.map(m => <li key={m}>{m}</li>)}</ul>
    : null
  const describedBy = (f: Field, hint = true): string => [hint ? `${f}-hint` : '', errors[f]?.length ? `${f}-error` : ''].filter(Boolean).join(' ')
  const invalid = (f: Field): true | undefined => errors[f]?.length ? true : undefined

  return (
    <>
      <h1>Create {several ? 'instances' : 'an instance'}</h1>
      <fieldset class="mode">
        <legend class="sr-only">How many</legend>
        <label><input type="radio" name="mode" checked={!several} onChange={() => { setSeveral(false); setResults(null) }} /> One instance</label>
        <label><input type="radio" name="mode" checked={several} onChange={() => { setSeveral(true); setResults(null) }} /> Several with the same settings</label>
      </fieldset>
      <form class="create" onSubmit={submit} noValidate aria-describedby={errors.form ? 'form-error' : undefined}>
        {errors.form && <div id="form-error" class="error" role="alert" tabIndex={-1}><p>The API refused this:</p><ul>{errors.form.map(m => <li key={m}>{m}</li>)}</ul></div>}
        <div class="field wide">
          <label for="name">{several ? 'Names' : 'Name'}</label>
          {several
            ? <textarea id="name" rows={3} value={d.names} onInput={e => set('names')(e.currentTarget.value)} aria-describedby={describedBy('name')} aria-invalid={invalid('name')} />
            : <input id="name" value={d.names} autocomplete="off" spellcheck={false} onInput={e => set('names')(e.currentTarget.value)} aria-describedby={describedBy('name')} aria-invalid={invalid('name')} />}
          <p id="name-hint" class="hint">{several ? 'One per line (or separated by commas), up to 100. ' : ''}Lower-case letters, digits and "-", starting with a letter, at most 40 characters.</p>
          {err('name')}
        </div>
        <div class="field">
          <label for="password">Password <span class="optional">(optional)</span></label>
          <input id="password" type="password" autocomplete="new-password" value={d.password} onInput={e => set('password')(e.currentTarget.value)} aria-describedby={describedBy('password')} aria-invalid={invalid('password')} />
          <p id="password-hint" class="hint">Leave empty and a strong one is generated and shown once. 12 to 128 printable characters, no spaces.</p>
          {err('password')}
        </div>
        <div class="field">
          <label for="postgres_version">PostgreSQL version</label>
          <select id="postgres_version" value={d.postgres_version} onChange={e => set('postgres_version')(e.currentTarget.value as Version)} aria-describedby={describedBy('postgres_version', false) || undefined} aria-invalid={invalid('postgres_version')}>
            {(Object.keys(VERSIONS) as Version[]).sort((a, b) => Number(b) - Number(a)).map(v => <option key={v} value={v}>{v}</option>)}
          </select>
          {err('postgres_version')}
        </div>
        <div class="field">
          <label for="storage_size_gb">Storage (GB)</label>
          <input id="storage_size_gb" inputMode="numeric" value={d.storage_size_gb} onInput={e => set('storage_size_gb')(e.currentTarget.value)} aria-describedby={describedBy('storage_size_gb')} aria-invalid={invalid('storage_size_gb')} />
          <p id="storage_size_gb-hint" class="hint">1 to 1024; it can grow later, never shrink.</p>
          {err('storage_size_gb')}
        </div>
        <div class="field">
          <label for="namespace">Namespace</label>
          <input id="namespace" value={d.namespace} spellcheck={false} onInput={e => set('namespace')(e.currentTarget.value)} aria-describedby={describedBy('namespace')} aria-invalid={invalid('namespace')} />
          <p id="namespace-hint" class="hint">Where the instance's objects live (a Kubernetes namespace).</p>
          {err('namespace')}
        </div>
        <div class="field">
          <label for="allowed_cidrs">Allowed networks <span class="optional">(optional)</span></label>
          <textarea id="allowed_cidrs" rows={3} spellcheck={false} value={d.allowed_cidrs} onInput={e => set('allowed_cidrs')(e.currentTarget.value)} aria-describedby={describedBy('allowed_cidrs')} aria-invalid={invalid('allowed_cidrs')} />
          <p id="allowed_cidrs-hint" class="hint">CIDR networks that may connect, one per line, e.g. 203.0.113.0/24. Empty: the server's default (anywhere, unless configured).</p>
          {err('allowed_cidrs')}
        </div>
        <div class="field">
          <label for="labels">Labels <span class="optional">(optional)</span></label>
          <textarea id="labels" rows={3} spellcheck={false} value={d.labels} onInput={e => set('labels')(e.currentTarget.value)} aria-describedby={describedBy('labels')} aria-invalid={invalid('labels')} />
          <p id="labels-hint" class="hint">key=value, one per line, e.g. env=prod. Filter the list by them.</p>
          {err('labels')}
        </div>
        <div class="field check">
          <div>
            <input id="use_load_balancer" type="checkbox" checked={d.use_load_balancer} onChange={e => set('use_load_balancer')(e.currentTarget.checked)} aria-describedby={describedBy('use_load_balancer')} />
            <label for="use_load_balancer">Public load balancer</label>
          </div>
          <p id="use_load_balancer-hint" class="hint">On Kubernetes, a LoadBalancer Service with a public IP (otherwise reachable inside the cluster only). Local instances listen on 127.0.0.1 either way.</p>
          {err('use_load_balancer')}
        </div>
        <div class="field">
          <label for="dns_label">DNS label <span class="optional">(optional)</span></label>
          <input id="dns_label" value={d.dns_label} spellcheck={false} onInput={e => set('dns_label')(e.currentTarget.value)} aria-describedby={describedBy('dns_label')} aria-invalid={invalid('dns_label')} />
          <p id="dns_label-hint" class="hint">Gives the load balancer the name &lt;label&gt;.&lt;region&gt;.cloudapp.azure.com.</p>
          {err('dns_label')}
        </div>
        <div class="field check">
          <div>
            <input id="deletion_protection" type="checkbox" checked={d.deletion_protection} onChange={e => set('deletion_protection')(e.currentTarget.checked)} aria-describedby={describedBy('deletion_protection')} />
            <label for="deletion_protection">Deletion protection</label>
          </div>
          <p id="deletion_protection-hint" class="hint">While on, deleting is refused; turn it off on the instance's page first.</p>
          {err('deletion_protection')}
        </div>
        <div class="buttons wide">
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating…' : several ? 'Create instances' : 'Create instance'}</button>
          <Link href={paths.list} class="button">Cancel</Link>
        </div>
      </form>
      {results && <BatchResults items={results} />}
    </>
  )
}

function focusFirstError (): void {
  setTimeout(() => (document.querySelector('[aria-invalid="true"], #form-error') as HTMLElement | null)?.focus(), 0)
}

function BatchResults (props: { items: BatchResult[] }): JSX.Element {
  const created = props.items.filter(i => i.status === 202)
  return (
    <section aria-labelledby="results-title" class="results">
      <h2 id="results-title">{created.length} of {props.items.length} created</h2>
      {created.some(i => i.password) && <p class="secret-warning" role="note"><strong>Save the generated passwords now: you will not see them again.</strong></p>}
      <table class="responsive">
        <thead><tr><th scope="col">Instance</th><th scope="col">Result</th><th scope="col">Password</th></tr></thead>
        <tbody>
          {props.items.map(i => (
            <tr key={i.index}>
              <th scope="row" data-label="Instance">{i.status === 202 && i.name ? <Link href={paths.instance(i.name)}>{i.name}</Link> : (i.name ?? `item ${i.index + 1}`)}</th>
              <td data-label="Result">{i.status === 202 ? 'Creating' : <span class="error">{i.problem?.detail ?? `HTTP ${i.status}`}</span>}</td>
              <td data-label="Password">{i.password ? <><code class="mono">{i.password}</code> <CopyButton text={i.password} label={`password of ${i.name}`} /></> : <span class="muted">–</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
