/** postgresql.conf lines every instance gets, beside its port (deploy.ts appends them with configureCluster). */
export const INSTANCE_SETTINGS = [
  // TLS with the certificate the control plane's CA issued (tls.ts); plain
  // TCP stays allowed on loopback by pg_hba.conf (network.ts).
  'ssl = on',
  "ssl_cert_file = 'server.crt'",
  "ssl_key_file = 'server.key'",
  // Statements may carry a password (ALTER ROLE ... PASSWORD '...'): their
  // text is never logged, neither as such, nor for its duration, nor after
  // the ERROR of a failing one (log_min_error_statement echoes the statement
  // at ERROR by default). readLogs redacts whatever gets through anyway.
  "log_statement = 'none'",
  'log_min_duration_statement = -1',
  'log_duration = off',
  'log_min_error_statement = panic'
]
