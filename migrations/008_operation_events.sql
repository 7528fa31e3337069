-- Up Migration
-- Why: a step's progress as it happens (started, waiting for..., retrying
-- with the reason, succeeded or failed), kept as an append-only history, so
-- any replica can stream it and a client can resume by id without losing or
-- repeating anything. Only operations started with `trace` record it (the
-- instance operations a user watches; not the health checks, which would
-- write far more than anyone reads). Written in the same statement as the
-- checkpoint it describes, so it costs no extra transaction. One writer at a
-- time holds an operation (its lease), so its events commit in id order.
ALTER TABLE toygres.operations ADD COLUMN trace boolean NOT NULL DEFAULT false;

CREATE TABLE toygres.operation_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  operation_id uuid NOT NULL REFERENCES toygres.operations (id) ON DELETE CASCADE,
  position integer NOT NULL,
  name text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL,
  progress text,
  error jsonb,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX operation_events_operation_idx ON toygres.operation_events (operation_id, id);
