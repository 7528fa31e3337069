-- Up Migration
-- Why: a health check's due time, beside when it ran. The difference is how
-- late the schedule runs (a backlog of checks, too few worker slots), which
-- operators watch (toygres_health_check_lateness_seconds) and the health
-- benchmark measures. Null for a monitor's first check, which has no timer.
ALTER TABLE toygres.health_checks ADD COLUMN due_at timestamptz;
