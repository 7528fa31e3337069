-- Up Migration
-- Why: the durable step engine keeps its operations and their step checkpoints
-- in our own schema, so the API can read them and a replay can trust them;
-- pg-boss jobs only carry an operation id.

CREATE TABLE toygres.operations (
  id                  uuid PRIMARY KEY,
  name                text NOT NULL,
  key                 text NOT NULL,
  status              text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
  input               jsonb,
  output              jsonb,
  error               jsonb,
  idempotency_key     text UNIQUE,
  -- Fencing: the token of the run that may write checkpoints now, and the
  -- pg-boss job that run belongs to (a retry of that same job may take over).
  lease               uuid,
  lease_job           text,
  -- How many runs claimed this operation (first run, replays after sleeps,
  -- crashes and restarts); generation counts continueAsNew restarts.
  attempts            integer NOT NULL DEFAULT 0,
  generation          integer NOT NULL DEFAULT 0,
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  finished_at         timestamptz,
  cancel_requested_at timestamptz,
  cancel_reason       text
);

-- Per-key serialisation looks for pending operations on a key, oldest first.
CREATE INDEX operations_key_active ON toygres.operations (key, created_at, id)
  WHERE status IN ('pending', 'running');

-- The operation that holds each key, from its first claim until it ends. The
-- primary key makes two claims on one key collide on one row, so the claim
-- is a single race-free statement.
CREATE TABLE toygres.operation_keys (
  key          text PRIMARY KEY,
  operation_id uuid NOT NULL REFERENCES toygres.operations (id) ON DELETE CASCADE
);

CREATE TABLE toygres.operation_steps (
  operation_id uuid NOT NULL REFERENCES toygres.operations (id) ON DELETE CASCADE,
  position     integer NOT NULL,
  name         text NOT NULL,
  -- sleeping/retrying are durable timers: output holds the wake-up time.
  status       text NOT NULL CHECK (status IN ('succeeded', 'failed', 'cancelled', 'sleeping', 'retrying')),
  attempts     integer NOT NULL DEFAULT 1,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  output       jsonb,
  error        jsonb,
  PRIMARY KEY (operation_id, position)
);
