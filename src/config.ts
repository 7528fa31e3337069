// Every setting comes from the environment, is validated here once at boot,
// and is passed down as a plain object. Nothing else reads process.env.
import { isAbsolute, resolve } from 'node:path'
import { isCidr } from './cidr.ts'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

const Bool = Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')])
const Port = Type.Integer({ minimum: 0, maximum: 65535 })

export const EnvSchema = Type.Object({
  PORT: Type.Optional(Port),
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TOYGRES_DATABASE_DIRECT_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TOYGRES_DATABASE_TIMEOUT_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 300 })),
  TOYGRES_REQUEST_TIMEOUT_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  LOG_LEVEL: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)))),
  KUBECONFIG: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_PROVISIONER: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('kubernetes')])),
  TOYGRES_API_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  TOYGRES_AUTH_DISABLED: Type.Optional(Bool),
  TOYGRES_SECRET_KEY: Type.Optional(Type.String({ pattern: '^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$' })),
  TOYGRES_EMBEDDED_DB_PORT: Type.Optional(Port),
  TOYGRES_PG_BIN_DIR: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_WORKER_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 0, maximum: 256 })),
  TOYGRES_HEARTBEAT_SECONDS: Type.Optional(Type.Integer({ minimum: 2, maximum: 600 })),
  TOYGRES_SHUTDOWN_GRACE_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
  TOYGRES_LOCAL_PORT_MIN: Type.Optional(Type.Integer({ minimum: 1024, maximum: 65535 })),
  TOYGRES_LOCAL_PORT_MAX: Type.Optional(Type.Integer({ minimum: 1024, maximum: 65535 })),
  TOYGRES_K8S_IMAGE: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_K8S_STORAGE_CLASS: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_K8S_REGION: Type.Optional(Type.String({ pattern: '^[a-z0-9]+$' })),
  TOYGRES_K8S_CONTROL_PLANE_CIDRS: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_K8S_CLUSTER_DOMAIN: Type.Optional(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', maxLength: 253 })),
  TOYGRES_K8S_CRASH_RESTARTS: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  TOYGRES_K8S_IMAGE_NOT_FOUND_PULLS: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  TOYGRES_HEALTH_INTERVAL_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
  TOYGRES_HEALTH_TIMEOUT_SECONDS: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
  TOYGRES_HEALTH_FAILURE_THRESHOLD: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  TOYGRES_HEALTH_RETENTION_HOURS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 365 })),
  TOYGRES_HEALTH_AUTO_RESTART: Type.Optional(Bool),
  TOYGRES_HEALTH_CONCURRENCY: Type.Optional(Type.Integer({ minimum: 1, maximum: 4096 })),
  TOYGRES_METRICS_PUBLIC: Type.Optional(Bool),
  TOYGRES_READY_TIMEOUT_SECONDS: Type.Optional(Type.Integer({ minimum: 10, maximum: 24 * 3600 })),
  TOYGRES_LOAD_BALANCER_TIMEOUT_SECONDS: Type.Optional(Type.Integer({ minimum: 10, maximum: 24 * 3600 })),
  TOYGRES_DELETE_TIMEOUT_SECONDS: Type.Optional(Type.Integer({ minimum: 10, maximum: 24 * 3600 })),
  TOYGRES_DEFAULT_ALLOWED_CIDRS: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_ALLOWED_NAMESPACES: Type.Optional(Type.String({ minLength: 1 })),
  TOYGRES_OPERATION_RETENTION_HOURS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 24 * 3650 })),
  TOYGRES_STATUS_CACHE_MS: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 }))
})
export type Env = Static<typeof EnvSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const truthy = (v: string | undefined, fallback: boolean): boolean => v === undefined ? fallback : v === 'true' || v === '1'
const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host)

export function loadConfig (source: Record<string, string | undefined>, cwd = process.cwd()) {
  // Only our variables, and empty strings count as unset (a common deployment mistake).
  const picked: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key]
    if (value !== undefined && value !== '') picked[key] = value
  }
  const converted = Value.Convert(EnvSchema, Value.Clone(picked))
  const errors = Value.Errors(EnvSchema, converted)
  if (errors.length > 0) {
    const first = errors[0]!
    const variable = first.instancePath.replace(/^\//, '') || 'environment'
    throw new ConfigError(`invalid ${variable}: ${first.message}`)
  }
  const env = converted as Env
  const host = env.HOST ?? '127.0.0.1'
  const authDisabled = truthy(env.TOYGRES_AUTH_DISABLED, false)
  if (!env.TOYGRES_API_TOKEN && !authDisabled && !isLoopback(host)) {
    throw new ConfigError(`invalid HOST: binding to ${host} without TOYGRES_API_TOKEN would expose the API; set a token or TOYGRES_AUTH_DISABLED=true`)
  }
  const portMin = env.TOYGRES_LOCAL_PORT_MIN ?? 25000
  const portMax = env.TOYGRES_LOCAL_PORT_MAX ?? 25999
  if (portMax < portMin) throw new ConfigError('invalid TOYGRES_LOCAL_PORT_MAX: must not be below TOYGRES_LOCAL_PORT_MIN')
  const dataDir = env.TOYGRES_DATA_DIR ?? './.toygres'
  if (env.TOYGRES_DATABASE_DIRECT_URL && !env.DATABASE_URL) throw new ConfigError('invalid TOYGRES_DATABASE_DIRECT_URL: it goes with DATABASE_URL (the pooled connection); set both or neither')
  const defaultAllowedCidrs = env.TOYGRES_DEFAULT_ALLOWED_CIDRS?.split(',').map(c => c.trim()).filter(Boolean) ?? null
  const badCidr = defaultAllowedCidrs?.find(c => !isCidr(c))
  if (badCidr !== undefined) throw new ConfigError(`invalid TOYGRES_DEFAULT_ALLOWED_CIDRS: "${badCidr}" is not an IPv4 or IPv6 network in CIDR notation (e.g. 203.0.113.0/24)`)
  const controlPlaneCidrs = env.TOYGRES_K8S_CONTROL_PLANE_CIDRS?.split(',').map(c => c.trim()).filter(Boolean)
  const badOwn = controlPlaneCidrs?.find(c => !isCidr(c))
  if (badOwn !== undefined) throw new ConfigError(`invalid TOYGRES_K8S_CONTROL_PLANE_CIDRS: "${badOwn}" is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.244.0.0/16)`)

  return {
    port: env.PORT ?? 3000,
    host,
    databaseUrl: env.DATABASE_URL,
    /**
     * A session (not transaction-pooled) connection to the same database, for
     * LISTEN/NOTIFY, advisory locks and pg-boss; set it when DATABASE_URL goes
     * through a transaction pooler (PgBouncer pool_mode=transaction).
     */
    databaseDirectUrl: env.TOYGRES_DATABASE_DIRECT_URL,
    /** Seconds any one database wait may take: connect, pool acquire, statement. */
    databaseTimeoutSeconds: env.TOYGRES_DATABASE_TIMEOUT_SECONDS ?? 5,
    /** Seconds a request (headers and body) may take to arrive. */
    requestTimeoutSeconds: env.TOYGRES_REQUEST_TIMEOUT_SECONDS ?? 30,
    logLevel: env.LOG_LEVEL ?? 'info',
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(cwd, dataDir),
    embeddedDbPort: env.TOYGRES_EMBEDDED_DB_PORT ?? 54329,
    pgBinDir: env.TOYGRES_PG_BIN_DIR,
    provisioner: env.TOYGRES_PROVISIONER ?? 'local',
    auth: { token: env.TOYGRES_API_TOKEN, disabled: authDisabled },
    secretKey: env.TOYGRES_SECRET_KEY,
    workers: {
      concurrency: env.TOYGRES_WORKER_CONCURRENCY ?? 8,
      heartbeatSeconds: env.TOYGRES_HEARTBEAT_SECONDS ?? 10
    },
    shutdownGraceMs: (env.TOYGRES_SHUTDOWN_GRACE_SECONDS ?? 30) * 1000,
    local: { portMin, portMax },
    kubernetes: {
      kubeconfig: env.KUBECONFIG,
      image: env.TOYGRES_K8S_IMAGE ?? 'postgres',
      storageClass: env.TOYGRES_K8S_STORAGE_CLASS,
      region: env.TOYGRES_K8S_REGION,
      /** Networks the control plane connects to instances from (undefined: the private ranges). */
      controlPlaneCidrs,
      /** The kubelet's --cluster-domain: Service DNS names and certificates end in it. */
      clusterDomain: env.TOYGRES_K8S_CLUSTER_DOMAIN ?? 'cluster.local',
      /** Container restarts (CrashLoopBackOff) a create waits through before it fails with the server's last log lines. */
      crashRestarts: env.TOYGRES_K8S_CRASH_RESTARTS ?? 3,
      /** "not found" answers from the registry for the image before a create fails (a typo'd tag never appears). */
      imageNotFoundPulls: env.TOYGRES_K8S_IMAGE_NOT_FOUND_PULLS ?? 3
    },
    health: {
      intervalSeconds: env.TOYGRES_HEALTH_INTERVAL_SECONDS ?? 30,
      timeoutSeconds: env.TOYGRES_HEALTH_TIMEOUT_SECONDS ?? 5,
      failureThreshold: env.TOYGRES_HEALTH_FAILURE_THRESHOLD ?? 3,
      retentionHours: env.TOYGRES_HEALTH_RETENTION_HOURS ?? 24,
      autoRestart: truthy(env.TOYGRES_HEALTH_AUTO_RESTART, true),
      /**
       * Health checks run at once per worker process. A check of a hung
       * server holds its slot up to the timeout: 10,000 instances on two
       * workers at 30 s, 5 % hung at 5 s, keep ~40 slots each busy on them.
       */
      concurrency: env.TOYGRES_HEALTH_CONCURRENCY ?? 128
    },
    metricsPublic: truthy(env.TOYGRES_METRICS_PUBLIC, false),
    /** Seconds each wait may take (the plan's 5 minutes for ready is too short for a slow disk plus a slow load balancer). */
    timeouts: {
      ready_seconds: env.TOYGRES_READY_TIMEOUT_SECONDS ?? 900,
      load_balancer_seconds: env.TOYGRES_LOAD_BALANCER_TIMEOUT_SECONDS ?? 600,
      delete_seconds: env.TOYGRES_DELETE_TIMEOUT_SECONDS ?? 600
    },
    defaultAllowedCidrs,
    /** Namespaces instances may be created in; null: any but Kubernetes' own (kube-system, kube-public, kube-node-lease). */
    allowedNamespaces: env.TOYGRES_ALLOWED_NAMESPACES?.split(',').map(n => n.trim()).filter(Boolean) ?? null,
    operationRetentionHours: env.TOYGRES_OPERATION_RETENTION_HOURS ?? 24 * 30,
    /** How long a GET /instances/{name} answer may be reused by other pollers (0: only concurrent requests share a load). */
    statusCacheMs: env.TOYGRES_STATUS_CACHE_MS ?? 200
  }
}

export type Config = ReturnType<typeof loadConfig>
