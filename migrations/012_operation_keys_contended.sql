-- Up Migration
-- Why: a run that ends frees its key, and must wake the next operation on
-- it. Its statement sees the pending operations as of its snapshot, so an
-- operation started meanwhile, whose claim was refused while the key was
-- still held, is missed unless someone looks again after the commit. That
-- second look cost a statement for every key freed, contended or not (one
-- per operation when keys are distinct). A refused claim now marks the
-- key's row; the ending statement deletes the row's newest version and
-- reads the mark, so only keys someone was refused on are looked at again.
ALTER TABLE toygres.operation_keys ADD COLUMN contended boolean NOT NULL DEFAULT false;
