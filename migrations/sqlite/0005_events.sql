-- The live events of each conversation (an agent's message, a change of
-- state, a ticket reference), kept so that a client that lost its
-- connection reads what it missed from `Last-Event-ID` on. `id` counts
-- per conversation; `event_count` is the conversation's last.
ALTER TABLE conversations ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE events (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, id)
);
