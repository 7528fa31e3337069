-- Up Migration
-- Why: a step that takes a while (waiting for a pod, a volume, a load
-- balancer) must show in the timeline while it runs, with what it is waiting
-- for now, not only once it ends. `running` rows are written for steps that
-- outlast a short threshold, and `progress` holds their latest reason.
ALTER TABLE toygres.operation_steps DROP CONSTRAINT operation_steps_status_check;
ALTER TABLE toygres.operation_steps ADD CONSTRAINT operation_steps_status_check
  CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'sleeping', 'retrying'));
ALTER TABLE toygres.operation_steps ADD COLUMN progress text;

-- Housekeeping prunes finished operations by age.
CREATE INDEX operations_finished_at ON toygres.operations (finished_at)
  WHERE status IN ('succeeded', 'failed', 'cancelled');
