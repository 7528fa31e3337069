-- Up Migration
-- Why: GET /operations lists recent operations across every instance,
-- newest first, a page at a time (keyset on created_at, id), and can narrow
-- to one key (an instance's name). It lists the operations started with
-- `trace`, the ones people watch (every instance operation), unless asked
-- for the others: the health monitors, one long-lived untraced operation per
-- instance whose row is rewritten at every check. Partial indexes keep those
-- rewrites out of both indexes, so the monitors pay nothing for the list.
CREATE INDEX operations_recent ON toygres.operations (created_at, id) WHERE trace;
CREATE INDEX operations_recent_by_key ON toygres.operations (key, created_at, id) WHERE trace;
