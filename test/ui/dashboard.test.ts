// The dashboard in a real browser (Debian's Chromium through playwright-core)
// against the real control plane with the local provisioner: sign in (and a
// clear screen for a wrong token), a validation error placed next to its
// field in the API's own words, create from the form, watch the timeline
// reach running, copy the connection URI and connect with it, the health
// chart drawing points, bulk create, the list following the event stream and
// filtering by label, and delete from the page until the list loses the row;
// the operations page's Load more and the chart's history past one page of
// checks, on an app with no worker. axe-core checks every page for serious or critical violations, at
// 1280 px and on a phone-sized screen. Skipped without /usr/bin/chromium.
//
// TOYGRES_UI_SCREENSHOTS=docs saves the list, create and instance pages
// there (the PNGs in docs/ come from this).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import pg from 'pg'
import { chromium, type Browser, type Page } from 'playwright-core'
import t from 'tap'
import { buildTestApp, localProvisionerEnv } from '../helpers/app.ts'
import { pollUntil } from '../helpers/poll.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const TOKEN = 'dashboard-test-token-0123'
const root = fileURLToPath(new URL('../..', import.meta.url))
const shots = process.env.TOYGRES_UI_SCREENSHOTS
const skip = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: the dashboard's browser tests need Debian's chromium (apt-get install chromium; .ci/run installs it)`

/** No serious or critical violation that axe-core finds on the page as it is now. */
async function axe (t: { same (a: unknown, b: unknown, m: string): unknown }, page: Page, what: string): Promise<void> {
  const source = await readFile(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8')
  // Evaluated through the DevTools protocol: the page's CSP (no inline script) stays on.
  await page.evaluate(source)
  // A string, run in the page (this file is compiled without the DOM's types).
  const violations = await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' + JSON.stringify(v.nodes.map(n => n.target))))`) as string[]
  t.same(violations, [], `${what}: no serious or critical accessibility violation`)
}

const fitsWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth <= window.innerWidth') as Promise<boolean>
/** Waits until the chart has `n` points (polled from here: the page's CSP forbids waitForFunction's eval). */
async function chartHas (page: Page, n: number, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const points = await chartPoints(page)
    if (points >= n || Date.now() > until) return points
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}
const chartPoints = (page: Page) => page.evaluate("Number(document.querySelector('.chart')?.getAttribute('data-points') ?? 0)") as Promise<number>

t.test('the dashboard, end to end in Chromium', { skip }, async t => {
  if (!existsSync(join(root, 'ui/dist/index.html'))) await promisify(execFile)(process.execPath, [join(root, 'ui/build.mjs')], { cwd: root })
  const env = await localProvisionerEnv(t)
  const app = await buildTestApp(t, { ...env, TOYGRES_API_TOKEN: TOKEN, TOYGRES_WORKER_CONCURRENCY: '2', TOYGRES_HEALTH_INTERVAL_SECONDS: '1' })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base })
  const page = await context.newPage()
  const pageErrors: string[] = []
  page.on('pageerror', err => pageErrors.push(err.message))
  page.setDefaultTimeout(20_000)

  await t.test('a wrong token gets a clear screen; the right one signs in, kept out of the URL', async t => {
    await page.goto(`${base}/`)
    await page.getByRole('heading', { name: 'Sign in to Toygres' }).waitFor()
    await axe(t, page, 'sign-in')
    await page.getByLabel('API token').fill('not-the-token-at-all')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').filter({ hasText: 'That token is not valid' }).waitFor()
    t.equal(await page.getByLabel('API token').getAttribute('aria-invalid'), 'true')
    await page.getByLabel('API token').fill(TOKEN)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Instances' }).waitFor()
    t.equal(await page.evaluate(() => sessionStorage.getItem('toygres.token')), TOKEN, 'in session storage')
    t.notMatch(page.url(), TOKEN, 'never in a URL')
  })

  await t.test('a validation error shows next to its field, in the API\'s words', async t => {
    await page.getByRole('link', { name: 'Create an instance' }).click()
    await page.getByRole('heading', { name: 'Create an instance' }).waitFor()
    await axe(t, page, 'create form')
    await page.getByLabel('Name', { exact: true }).fill('Bad_Name')
    await page.getByRole('button', { name: 'Create instance' }).click()
    const error = page.locator('#name-error')
    await error.waitFor()
    const api = await fetch(`${base}/instances`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Bad_Name' }) })
    const problem = await api.json() as { errors: Array<{ field: string, message: string }> }
    t.equal((await error.innerText()).trim(), problem.errors.find(e => e.field === 'body.name')!.message)
    t.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true')
    t.match(await page.getByLabel('Name', { exact: true }).getAttribute('aria-describedby'), /name-error/, 'the message is tied to its field')
    await axe(t, page, 'create form with an error')
  })

  let uri = ''
  await t.test('create from the form, watch the timeline reach running, copy the URI, connect', async t => {
    await page.getByLabel('Name', { exact: true }).fill('ui-e2e')
    await page.getByLabel('Labels').fill('env=test\nteam=dashboard')
    await page.getByLabel('Public load balancer').uncheck()
    if (shots) await page.screenshot({ path: join(shots, 'dashboard-create.png'), fullPage: true })
    await page.getByRole('button', { name: 'Create instance' }).click()
    await page.waitForURL(`${base}/ui/instances/ui-e2e`)
    await page.getByRole('heading', { name: 'Save the password now: you will not see it again' }).waitFor()
    // Live: the steps appear and finish as the operation runs.
    await page.locator('.operation[data-status="succeeded"] [data-step="test-connection"][data-status="succeeded"]').waitFor({ timeout: 90_000 })
    await page.locator('.heading .badge', { hasText: 'running' }).waitFor()
    t.ok(await page.locator('[data-step="deploy-postgres"] .step-time').innerText().then(s => /\d+(\.\d)? (ms|s)/.test(s)), 'each step shows its duration')

    await page.getByRole('button', { name: 'Copy Connection URI (with the password)' }).click()
    await page.getByRole('status').filter({ hasText: 'Copied' }).first().waitFor()
    uri = await page.evaluate('navigator.clipboard.readText()') as string
    t.match(uri, /^postgresql:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres\?sslmode=require$/)
    // The server's certificate is checked against the CA the page offers, as a user's client would.
    await page.getByRole('button', { name: 'Copy CA certificate' }).click()
    const ca = await page.evaluate('navigator.clipboard.readText()') as string
    t.match(ca, /^-----BEGIN CERTIFICATE-----/)
    const client = new pg.Client({ connectionString: uri.replace('?sslmode=require', ''), ssl: { ca, servername: 'localhost' } })
    await client.connect()
    t.same((await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows, [{ ssl: true }], 'the copied URI connects over TLS verified by the copied CA')
    await client.end()
    await axe(t, page, 'instance page')
  })

  await t.test('the chart draws the health checks', async t => {
    t.ok(await chartHas(page, 3) >= 3, 'the chart has points')
    // The response-time series is drawn in #1f5fbf: count the pixels of about that blue.
    const inked = await page.evaluate(`(() => {
      const canvas = document.querySelector('.chart canvas')
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
      let n = 0
      for (let i = 0; i < px.length; i += 4) if (px[i] < 80 && px[i + 1] > 60 && px[i + 1] < 130 && px[i + 2] > 150) n++
      return n
    })()`) as number
    t.ok(inked > 20, `the series is drawn (${inked} pixels)`)
    t.match(await page.locator('#health-summary').innerText(), /\d+ checks since .*: all succeeded/)
    // A fuller chart for the picture.
    if (shots) await chartHas(page, 12)
    if (shots) await page.screenshot({ path: join(shots, 'dashboard-instance.png'), fullPage: true })
  })

  await t.test('bulk create; the list follows the event stream and filters by label; operations; a phone-sized screen', async t => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Create' }).click()
    await page.getByLabel('Several with the same settings').check()
    await page.getByLabel('Names', { exact: true }).fill('billing-db\nsearch-db')
    await page.getByLabel('Labels').fill('env=staging')
    await page.getByRole('button', { name: 'Create instances' }).click()
    await page.getByRole('heading', { name: '2 of 2 created' }).waitFor()
    t.equal(await page.getByRole('button', { name: /^Copy password of / }).count(), 2, 'each generated password, once, with a copy button')
    await axe(t, page, 'bulk create results')

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Instances' }).click()
    await page.locator('tr[data-instance="ui-e2e"]').waitFor()
    for (const name of ['billing-db', 'search-db']) await page.locator(`tr[data-instance="${name}"] td[data-label="State"]`, { hasText: 'running' }).waitFor({ timeout: 90_000 })
    t.match(await page.locator('tr[data-instance="ui-e2e"]').innerText(), /running[\s\S]*healthy[\s\S]*PostgreSQL 18[\s\S]*env=test/)
    await page.getByRole('status').filter({ hasText: /^Live$/ }).waitFor()
    await axe(t, page, 'instance list')
    if (shots) await page.screenshot({ path: join(shots, 'dashboard-list.png'), fullPage: true })
    // A change made elsewhere (here the API itself) shows without a reload.
    t.equal((await fetch(`${base}/instances/search-db`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })).status, 202)
    await page.locator('tr[data-instance="search-db"]').waitFor({ state: 'detached', timeout: 30_000 })
    await page.getByLabel('Labels').fill('env=staging')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.locator('tr[data-instance="ui-e2e"]').waitFor({ state: 'detached' })
    await page.locator('tr[data-instance="billing-db"]').waitFor()
    t.same(await page.locator('tbody tr').evaluateAll(rows => rows.map(r => r.getAttribute('data-instance'))), ['billing-db'], 'the label filter keeps the staging instance')
    t.match(page.url(), /label=env%3Dstaging/, 'the filter is in the address, to share or reload')

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click()
    await page.getByRole('link', { name: 'create of ui-e2e, timeline' }).waitFor()
    await axe(t, page, 'operations')
    await page.setViewportSize({ width: 390, height: 844 })
    for (const path of ['/', '/ui/new', '/ui/instances/ui-e2e']) {
      await page.goto(`${base}${path}`)
      await page.locator('main h1').first().waitFor()
      t.ok(await fitsWidth(page), `${path} fits a 390 px screen`)
    }
    await axe(t, page, 'instance page on a phone')
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  await t.test('delete from the page: a confirmation naming it, then the row goes', async t => {
    await page.goto(`${base}/ui/instances/ui-e2e`)
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete ui-e2e?' })
    await dialog.waitFor()
    const confirm = dialog.getByRole('button', { name: 'Delete ui-e2e' })
    t.ok(await confirm.isDisabled(), 'nothing happens until the name is typed')
    await axe(t, page, 'delete confirmation')
    await dialog.getByLabel('Type ui-e2e to confirm').fill('ui-e2e')
    await page.keyboard.press('Enter')
    await page.waitForURL(`${base}/`)
    // The list has loaded once a row that stays shows; it shows ui-e2e deleting
    // (unless the delete ended before the list loaded), then the event stream
    // removes that row. (.empty never shows here: other instances remain.)
    await page.locator('tr[data-instance="billing-db"]').waitFor()
    await page.locator('tr[data-instance="ui-e2e"]').waitFor({ state: 'detached', timeout: 60_000 })
    t.equal(await page.locator('tr[data-instance="billing-db"]').count(), 1, 'the others stay')
    // GET /instances/{name} answers from a 200 ms micro-cache: the 404 may be a moment behind the event.
    const status = await pollUntil(async () => (await fetch(`${base}/instances/ui-e2e`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, s => s === 404, { timeoutMs: 5000, what: 'ui-e2e gone' })
    t.equal(status, 404, 'gone from the API too')
  })

  t.same(pageErrors, [], 'no script error on any page')
})

t.test('the operations page pages with Load more and follows the stream; the chart draws history past one page', { skip }, async t => {
  if (!existsSync(join(root, 'ui/dist/index.html'))) await promisify(execFile)(process.execPath, [join(root, 'ui/build.mjs')], { cwd: root })
  // No worker: the operations stay pending, and the checks are the ones written here.
  const app = await buildTestApp(t, { TOYGRES_API_TOKEN: TOKEN })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
  const create = async (name: string): Promise<void> => {
    const res = await fetch(`${base}/instances`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
    if (res.status !== 202) throw new Error(`create ${name}: ${res.status}`)
  }
  for (let i = 0; i < 60; i++) await create(`op-${String(i).padStart(2, '0')}`)

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  t.teardown(() => browser.close())
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
  const pageErrors: string[] = []
  page.on('pageerror', err => pageErrors.push(err.message))
  page.setDefaultTimeout(20_000)
  await page.goto(`${base}/`)
  await page.getByLabel('API token').fill(TOKEN)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { name: 'Instances' }).waitFor()

  const instances = () => page.locator('tbody tr td[data-label="Instance"]').allInnerTexts()
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operations' }).click()
  await page.getByRole('link', { name: 'create of op-59, timeline' }).waitFor()
  const first = await instances()
  t.equal(first.length, 50, 'one page of 50')
  t.same(first.slice(0, 2), ['op-59', 'op-58'], 'newest first')
  await page.getByRole('button', { name: 'Load more' }).click()
  await page.getByRole('link', { name: 'create of op-00, timeline' }).waitFor()
  const all = await instances()
  t.same(all, Array.from({ length: 60 }, (_, i) => `op-${String(59 - i).padStart(2, '0')}`), 'the rest, none repeated')
  t.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0, 'nothing more to load')
  await axe(t, page, 'operations, after Load more')
  await create('op-late')
  await page.getByRole('link', { name: 'create of op-late, timeline' }).waitFor()
  t.equal((await instances()).length, 61, 'the stream brought the new one in on top, keeping what was loaded')

  // 700 checks of op-00 (more than one page of 500), then 3 more while the page is open.
  const { rows: [row] } = await app.db.query<{ id: string }>("SELECT id FROM toygres.instances WHERE name = 'op-00'")
  const insertChecks = (n: number, minutesAgo: number) => app.db.query(`INSERT INTO toygres.health_checks (instance_id, checked_at, ok, response_time_ms)
    SELECT $1, now() - make_interval(mins => $3) - make_interval(secs => i * 30), true, 2 + i % 5 FROM generate_series(0, $2 - 1) i`, [row!.id, n, minutesAgo])
  await insertChecks(700, 1)
  await page.goto(`${base}/ui/instances/op-00`)
  t.equal(await chartHas(page, 700), 700, 'the chart draws all 700, from two pages')
  await insertChecks(3, 0)
  t.equal(await chartHas(page, 703, 20_000), 703, 'and adds the checks recorded since')
  t.same(pageErrors, [], 'no script error')
})
