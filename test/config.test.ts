import t from 'tap'
import { ConfigError, loadConfig } from '../src/config.ts'

t.test('defaults need no configuration', async t => {
  const c = loadConfig({}, '/srv/app')
  t.match(c, { port: 3000, host: '127.0.0.1', databaseUrl: undefined, provisioner: 'local', dataDir: '/srv/app/.toygres' })
  t.equal(c.health.intervalSeconds, 30)
})

t.test('values are converted and validated', async t => {
  const c = loadConfig({ PORT: '8080', TOYGRES_PROVISIONER: 'kubernetes', TOYGRES_HEALTH_AUTO_RESTART: 'false', DATABASE_URL: 'postgres://u@h/db', LOG_LEVEL: '' })
  t.match(c, { port: 8080, provisioner: 'kubernetes', databaseUrl: 'postgres://u@h/db', logLevel: 'info' })
  t.equal(c.health.autoRestart, false)
})

t.test('Kubernetes wait limits reach the provisioner options', async t => {
  t.match(loadConfig({}).kubernetes, { crashRestarts: 3, imageNotFoundPulls: 3 })
  t.match(loadConfig({ TOYGRES_K8S_CRASH_RESTARTS: '5', TOYGRES_K8S_IMAGE_NOT_FOUND_PULLS: '1' }).kubernetes, { crashRestarts: 5, imageNotFoundPulls: 1 })
  t.throws(() => loadConfig({ TOYGRES_K8S_CRASH_RESTARTS: '0' }), /TOYGRES_K8S_CRASH_RESTARTS/)
})

t.test('a bad value names its variable', async t => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ TOYGRES_PROVISIONER: 'docker' }, /TOYGRES_PROVISIONER/],
    [{ TOYGRES_API_TOKEN: 'short' }, /TOYGRES_API_TOKEN/],
    [{ TOYGRES_LOCAL_PORT_MIN: '6000', TOYGRES_LOCAL_PORT_MAX: '5000' }, /TOYGRES_LOCAL_PORT_MAX/]
  ]
  for (const [env, pattern] of cases) t.throws(() => loadConfig(env), { name: 'ConfigError', message: pattern })
  t.ok(new ConfigError('x') instanceof Error)
})

t.test('a public bind address needs a token or an explicit opt-out', async t => {
  t.throws(() => loadConfig({ HOST: '0.0.0.0' }), /HOST/)
  t.equal(loadConfig({ HOST: '0.0.0.0', TOYGRES_API_TOKEN: 'x'.repeat(32) }).host, '0.0.0.0')
  t.equal(loadConfig({ HOST: '0.0.0.0', TOYGRES_AUTH_DISABLED: 'true' }).auth.disabled, true)
})
