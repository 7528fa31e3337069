-- Up Migration
-- Why: instances live on after create: they restart, stop and start, change
-- password, parameters, storage, network and labels, and can be protected
-- from deletion. Every change is a durable operation on the instance's key,
-- so they run one at a time, in order; the states below say which one runs.
-- A delete that fails leaves `delete_failed` (a new DELETE starts a new
-- delete), never a `deleting` that nothing can end.

ALTER TABLE toygres.instances DROP CONSTRAINT instances_state_check;
ALTER TABLE toygres.instances ADD CONSTRAINT instances_state_check CHECK (state IN (
  'creating', 'running', 'failed', 'deleting', 'delete_failed',
  'stopping', 'stopped', 'starting', 'restarting', 'updating'));
ALTER TABLE toygres.instances DROP CONSTRAINT instances_health_check;
ALTER TABLE toygres.instances ADD CONSTRAINT instances_health_check CHECK (health IN ('unknown', 'healthy', 'unhealthy', 'stopped'));

ALTER TABLE toygres.instances
  ADD COLUMN labels jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN allowed_cidrs text[],
  ADD COLUMN deletion_protection boolean NOT NULL DEFAULT false,
  -- postgresql.conf settings applied with ALTER SYSTEM (what the user asked for).
  ADD COLUMN parameters jsonb NOT NULL DEFAULT '{}',
  -- pg_settings.pending_restart after the last change, as the server reported it.
  ADD COLUMN pending_restart boolean NOT NULL DEFAULT false,
  -- A password being set by a reset-password operation; it replaces
  -- password_ciphertext when the server has it, and is dropped if the reset fails.
  ADD COLUMN pending_password_ciphertext text;

CREATE INDEX instances_labels_idx ON toygres.instances USING gin (labels jsonb_path_ops);

CREATE OR REPLACE FUNCTION toygres.guard_instance_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state IS DISTINCT FROM OLD.state AND NOT (
       (OLD.state = 'creating'      AND NEW.state IN ('running', 'failed', 'deleting'))
    OR (OLD.state = 'running'       AND NEW.state IN ('restarting', 'stopping', 'updating', 'deleting'))
    OR (OLD.state = 'restarting'    AND NEW.state IN ('running', 'deleting'))
    OR (OLD.state = 'updating'      AND NEW.state IN ('running', 'deleting'))
    OR (OLD.state = 'stopping'      AND NEW.state IN ('stopped', 'running', 'deleting'))
    OR (OLD.state = 'stopped'       AND NEW.state IN ('starting', 'deleting'))
    OR (OLD.state = 'starting'      AND NEW.state IN ('running', 'stopped', 'deleting'))
    OR (OLD.state = 'failed'        AND NEW.state = 'deleting')
    OR (OLD.state = 'deleting'      AND NEW.state = 'delete_failed')
    OR (OLD.state = 'delete_failed' AND NEW.state = 'deleting')
  ) THEN
    RAISE EXCEPTION 'instance % cannot go from % to %', OLD.name, OLD.state, NEW.state
      USING ERRCODE = 'check_violation', CONSTRAINT = 'instance_state_transition';
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END $$;

-- Which operations act on which instance (the key is the name, which a
-- later instance may reuse), for GET /instances/{name}/operations and for
-- the instance's event stream, which outlives the instance by the
-- retention (so the delete's own end can still be streamed).
CREATE TABLE toygres.instance_operations (
  instance_id uuid NOT NULL,
  operation_id uuid NOT NULL,
  kind text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (instance_id, operation_id)
);
CREATE INDEX instance_operations_recent_idx ON toygres.instance_operations (instance_id, created_at DESC, operation_id DESC);

-- DELETE ?force=true forgets an instance whose resources cannot be reached;
-- what may be left behind is recorded here, for an operator to clean up.
CREATE TABLE toygres.forgotten_instances (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id uuid NOT NULL,
  name text NOT NULL,
  namespace text NOT NULL,
  provisioner text NOT NULL,
  state text NOT NULL,
  -- What the last deploy reported making, e.g. ["Secret/orders-credentials", "StatefulSet/orders"].
  may_remain jsonb NOT NULL,
  reason text,
  forgotten_at timestamptz NOT NULL DEFAULT now()
);

-- The event history outlives the instance (its removal is the last event),
-- so a stream of every instance can say that one went; housekeeping prunes
-- it after the operation retention. Every change of an instance happens
-- under its row lock, so one instance's events commit in id order: a
-- reader following ids never skips one that commits late. A NOTIFY wakes
-- the streams that follow the history.
ALTER TABLE toygres.instance_events DROP CONSTRAINT instance_events_instance_id_fkey;
ALTER TABLE toygres.instance_events ADD COLUMN name text;
-- Events of different instances can commit out of id order: the stream of
-- every instance reads a row once its transaction is older than every open
-- one (or, so a forgotten open transaction cannot stall it, a few seconds old).
ALTER TABLE toygres.instance_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
UPDATE toygres.instance_events e SET name = i.name FROM toygres.instances i WHERE i.id = e.instance_id;
ALTER TABLE toygres.instance_events DROP CONSTRAINT instance_events_kind_check;
ALTER TABLE toygres.instance_events ADD CONSTRAINT instance_events_kind_check CHECK (kind IN ('state', 'health', 'removed'));
CREATE INDEX instance_events_at_idx ON toygres.instance_events (at);

CREATE OR REPLACE FUNCTION toygres.record_instance_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO toygres.instance_events (instance_id, name, kind, from_value, to_value)
    VALUES (OLD.id, OLD.name, 'removed', OLD.state, 'removed');
    PERFORM pg_notify('toygres_events', OLD.id::text);
    RETURN OLD;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO toygres.instance_events (instance_id, name, kind, from_value, to_value)
    VALUES (NEW.id, NEW.name, 'state', NULL, NEW.state);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO toygres.instance_events (instance_id, name, kind, from_value, to_value, detail)
    VALUES (NEW.id, NEW.name, 'state', OLD.state, NEW.state, NEW.error);
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.health IS DISTINCT FROM OLD.health THEN
    INSERT INTO toygres.instance_events (instance_id, name, kind, from_value, to_value)
    VALUES (NEW.id, NEW.name, 'health', OLD.health, NEW.health);
  END IF;
  IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state OR NEW.health IS DISTINCT FROM OLD.health THEN
    PERFORM pg_notify('toygres_events', NEW.id::text);
  END IF;
  RETURN NEW;
END $$;

DROP TRIGGER instances_record_event ON toygres.instances;
CREATE TRIGGER instances_record_event AFTER INSERT OR UPDATE ON toygres.instances
  FOR EACH ROW EXECUTE FUNCTION toygres.record_instance_event();
CREATE TRIGGER instances_record_removal AFTER DELETE ON toygres.instances
  FOR EACH ROW EXECUTE FUNCTION toygres.record_instance_event();
