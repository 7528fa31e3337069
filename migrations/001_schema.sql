-- Up Migration
-- Why: everything Toygres owns lives in one schema, apart from pg-boss's own
-- (pgboss), so a shared database stays tidy and a DROP SCHEMA undoes us.
CREATE SCHEMA IF NOT EXISTS toygres;
