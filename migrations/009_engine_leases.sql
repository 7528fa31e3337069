-- Up Migration
-- Why: a run's ownership and its wake-up time live on the operation itself.
-- A pg-boss job now only delivers a start (or a wake-up sent by an event);
-- it is completed in the transaction that claims the operation. From then on
-- the run keeps its lease alive itself (lease_until, renewed by its process),
-- and a lease past lease_until may be taken over by any engine: that is how
-- a dead worker's operation resumes. A durable timer is wake_at on the row,
-- set in the same statement that releases the lease, instead of a job per
-- timer: a health check every 30 s for every instance no longer inserts,
-- fetches and completes a pg-boss job each time.
ALTER TABLE toygres.operations
  ADD COLUMN wake_at timestamptz,
  ADD COLUMN lease_until timestamptz,
  -- Leases taken over from dead runs since the operation last settled
  -- cleanly: an operation whose runs keep dying is failed, not retried forever.
  ADD COLUMN takeovers integer NOT NULL DEFAULT 0;

-- Runs in flight at the upgrade were kept alive by pg-boss heartbeats, which
-- no longer count: they may be taken over at once (fencing stops the old run).
UPDATE toygres.operations SET lease_until = now() WHERE lease IS NOT NULL;

-- Due timers of one orchestration, soonest first.
CREATE INDEX operations_due ON toygres.operations (name, wake_at) WHERE wake_at IS NOT NULL;
-- Runs in flight of one orchestration, for leases that lapsed.
CREATE INDEX operations_leased ON toygres.operations (name, lease_until) WHERE lease IS NOT NULL;
