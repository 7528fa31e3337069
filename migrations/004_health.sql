-- Up Migration
-- Why: each health probe's outcome is kept for a bounded time (retention,
-- 24 h by default) so GET /instances/{name}/health can show recent checks
-- and their response times. The history belongs to the instance: it goes
-- with it (ON DELETE CASCADE). The current verdict (health,
-- consecutive_failures, last_health_check_at) stays on toygres.instances,
-- where its changes are already recorded as instance events.

CREATE TABLE toygres.health_checks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  instance_id uuid NOT NULL REFERENCES toygres.instances (id) ON DELETE CASCADE,
  checked_at timestamptz NOT NULL,
  ok boolean NOT NULL,
  response_time_ms double precision NOT NULL,
  error text
);

-- Recent checks of one instance, newest first; also the per-instance prune.
CREATE INDEX health_checks_instance_idx ON toygres.health_checks (instance_id, checked_at DESC);
-- The global prune by age: rows arrive in time order, so a BRIN index is
-- tiny and costs next to nothing on insert.
CREATE INDEX health_checks_checked_at_brin ON toygres.health_checks USING brin (checked_at);
