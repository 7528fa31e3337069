// The rooms of src/ and the one direction their doors open (shared/STYLE.md,
// "The shape of the house"). Lower rooms never import higher ones; no
// cycles. `npm run lint:deps` checks it; test/architecture.test.ts runs it
// in the suite, so CI fails on an import that runs back up.
//
// From the top: server/app/cli → plugins → http → instances (the services
// that start orchestrations) → orchestrations → activities → provisioners;
// the engine beside them, knowing nothing of any of them; and below all:
// db, postgres, tls, config, errors, logging, secrets.
const room = (...paths) => `^src/(${paths.join('|')})`
const SHARED = ['db/', 'postgres/', 'tls/', 'config\\.ts', 'errors\\.ts', 'logging\\.ts', 'secrets\\.ts', 'cidr\\.ts']
const TOP = ['app\\.ts', 'server\\.ts', 'openapi\\.ts', 'cli/']

/** `from` may not import any of `rooms`. */
const forbid = (name, comment, from, rooms) => ({ name, comment, severity: 'error', from: { path: from }, to: { path: room(...rooms) } })

module.exports = {
  forbidden: [
    { name: 'no-cycles', comment: 'An import cycle means a type or function sits in the wrong room.', severity: 'error', from: {}, to: { circular: true } },
    forbid('shared-is-the-floor', 'db, postgres, tls, config, errors, logging and secrets import nothing of the app above them.',
      room(...SHARED), ['engine/', 'provisioners/', 'activities/', 'orchestrations/', 'instances/', 'http/', 'plugins/', ...TOP]),
    forbid('engine-knows-no-instances', 'The engine is general durable execution: it knows nothing about PostgreSQL instances, HTTP or Kubernetes.',
      room('engine/'), ['provisioners/', 'activities/', 'orchestrations/', 'instances/', 'http/', 'plugins/', 'tls/', 'postgres/', ...TOP]),
    forbid('provisioners-know-no-engine', 'Provisioners know nothing about the engine, HTTP or what calls them.',
      room('provisioners/'), ['engine/', 'activities/', 'orchestrations/', 'instances/', 'http/', 'plugins/', 'db/', ...TOP]),
    forbid('activities-below-orchestrations', 'Activities are called by orchestrations, never the other way round, and never start operations.',
      room('activities/'), ['engine/', 'orchestrations/', 'instances/', 'http/', 'plugins/', ...TOP]),
    forbid('orchestrations-below-services', 'Orchestrations call activities through the engine; they do not reach into services, HTTP or provisioners.',
      room('orchestrations/'), ['instances/', 'http/', 'plugins/', 'provisioners/', 'db/', ...TOP]),
    forbid('services-below-http', 'The services that start orchestrations know nothing of HTTP or the plugins that wire them.',
      room('instances/'), ['http/', 'plugins/', ...TOP]),
    forbid('http-below-plugins', 'Routes use decorators; they never import the plugins that provide them.',
      room('http/'), ['plugins/', 'provisioners/', ...TOP]),
    forbid('plugins-below-app', 'Plugins are wired by app.ts; they never import it or the server.',
      room('plugins/'), TOP),
    // Clients of the API (the typed client, the CLI, the dashboard) know it only through HTTP.
    { name: 'clients-know-no-server', comment: 'client/, cli/ and ui/ use the API through HTTP and the generated types; they import no server code.', severity: 'error', from: { path: '^(client|cli|ui)/' }, to: { path: '^src/' } },
    { name: 'server-knows-no-clients', comment: 'The server does not depend on its clients.', severity: 'error', from: { path: '^src/' }, to: { path: '^(client|cli|ui)/' } }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|client|cli|ui/src)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts'] }
  }
}
