-- The outbox of handoffs: written in the same transaction as the
-- escalation, delivered by the outbox worker, retried on a schedule, and
-- dead-lettered when it is spent. `seq` is the last message of the
-- conversation that belongs to the handoff; `payload` is built at the first
-- attempt and sent unchanged on every retry.
CREATE TABLE handoffs (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    reason TEXT NOT NULL,
    priority TEXT NOT NULL,
    intent TEXT,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    payload TEXT,
    ticket_id TEXT,
    ticket_url TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX handoffs_due ON handoffs (status, next_attempt_at);
CREATE INDEX handoffs_conversation ON handoffs (conversation_id);
