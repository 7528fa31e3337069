-- Up Migration
-- Why: instance metadata lives beside the jobs and checkpoints that change it,
-- so "write the instance row + enqueue its operation" is one transaction.
-- State transitions are guarded here, in the database, so that no code path
-- (a replayed step, a second API process) can move an instance backwards, and
-- every change of state or health lands in an append-only event history.

CREATE TABLE toygres.instances (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  namespace text NOT NULL,
  state text NOT NULL DEFAULT 'creating' CHECK (state IN ('creating', 'running', 'failed', 'deleting')),
  health text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'healthy', 'unhealthy')),
  postgres_version text NOT NULL,
  storage_size_gb integer NOT NULL,
  use_load_balancer boolean NOT NULL,
  dns_label text,
  -- Connection info never holds the password (see password_ciphertext).
  ip_connection_string text,
  dns_connection_string text,
  external_ip text,
  dns_name text,
  server_version text,
  deployment_time_seconds integer,
  error jsonb,
  -- AES-256-GCM under TOYGRES_SECRET_KEY: a replay after a crash can still deploy.
  password_ciphertext text NOT NULL,
  operation_id uuid,
  health_operation_id uuid,
  last_health_check_at timestamptz,
  last_response_time_ms double precision,
  consecutive_failures integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Unique among live instances: a deleted instance's row is gone, so its name
-- can be reused at once.
CREATE UNIQUE INDEX instances_name_key ON toygres.instances (name);
CREATE INDEX instances_state_idx ON toygres.instances (state, name);

CREATE TABLE toygres.instance_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id uuid NOT NULL REFERENCES toygres.instances (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('state', 'health')),
  from_value text,
  to_value text NOT NULL,
  detail jsonb,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instance_events_instance_idx ON toygres.instance_events (instance_id, id);

CREATE FUNCTION toygres.guard_instance_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state AND NOT (
       (OLD.state = 'creating' AND NEW.state IN ('running', 'failed', 'deleting'))
    OR (OLD.state IN ('running', 'failed') AND NEW.state = 'deleting')
  ) THEN
    RAISE EXCEPTION 'instance % cannot go from % to %', OLD.name, OLD.state, NEW.state
      USING ERRCODE = 'check_violation', CONSTRAINT = 'instance_state_transition';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TRIGGER instances_guard_state BEFORE UPDATE ON toygres.instances
  FOR EACH ROW EXECUTE FUNCTION toygres.guard_instance_state();

CREATE FUNCTION toygres.record_instance_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO toygres.instance_events (instance_id, kind, from_value, to_value)
    VALUES (NEW.id, 'state', NULL, NEW.state);
    RETURN NEW;
  END IF;
  IF NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO toygres.instance_events (instance_id, kind, from_value, to_value, detail)
    VALUES (NEW.id, 'state', OLD.state, NEW.state, NEW.error);
  END IF;
  IF NEW.health IS DISTINCT FROM OLD.health THEN
    INSERT INTO toygres.instance_events (instance_id, kind, from_value, to_value)
    VALUES (NEW.id, 'health', OLD.health, NEW.health);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER instances_record_event AFTER INSERT OR UPDATE ON toygres.instances
  FOR EACH ROW EXECUTE FUNCTION toygres.record_instance_event();

-- Idempotency-Key for POST /instances: the same key and body get the original
-- response back. request_hmac is keyed (it covers the password), and no
-- response body is stored: it is rebuilt from the instance.
CREATE TABLE toygres.idempotency_keys (
  key text PRIMARY KEY,
  request_hmac text NOT NULL,
  instance_id uuid NOT NULL,
  password_generated boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
