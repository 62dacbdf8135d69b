-- A handoff row that adds to an earlier handoff of its conversation (the
-- customer's address, given after the ticket was opened) instead of
-- opening another: sent as `handoff.updated`, or as a comment or note on
-- the ticket, once the handoff it adds to is delivered.
ALTER TABLE handoffs ADD COLUMN updates TEXT REFERENCES handoffs (id) ON DELETE CASCADE;
