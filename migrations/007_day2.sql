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
-- the instance's event stream.
CREATE TABLE toygres.instance_operations (
  instance_id uuid NOT NULL REFERENCES toygres.instances (id) ON DELETE CASCADE,
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

-- Event history: every instance event carries the writing transaction's id,
-- so a reader following the history by id never skips a row that commits
-- after a later id (it reads only rows older than every open transaction).
ALTER TABLE toygres.instance_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
