-- The e-mail channel. Each mail received or sent: inbound mail keeps its
-- decoded (masked) original body and what was decided about answering it;
-- outbound mail is also the mail outbox, claimed, retried and
-- dead-lettered by the same rules as the handoffs' (status, attempts,
-- next_attempt_at, last_error). `message_id` threads replies; the same
-- inbound Message-ID is taken once.
CREATE TABLE mails (
    id TEXT PRIMARY KEY,
    conversation_id TEXT REFERENCES conversations (id) ON DELETE CASCADE,
    seq BIGINT,
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sender TEXT,
    recipient TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    details TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX mails_inbound_id ON mails (message_id) WHERE direction = 'in';
CREATE INDEX mails_message_id ON mails (message_id);
CREATE INDEX mails_conversation ON mails (conversation_id, created_at);
CREATE INDEX mails_due ON mails (status, next_attempt_at);
CREATE INDEX mails_recipient ON mails (recipient, created_at);
CREATE INDEX mails_sender ON mails (sender, created_at);

-- Mail that could not be decoded: kept as it came, for an operator, and
-- purged with the conversations after the retention period.
CREATE TABLE mail_quarantine (
    id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    raw BLOB NOT NULL,
    size BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX mail_quarantine_received ON mail_quarantine (received_at);

-- Addresses that failed permanently (a bounce): not mailed again before
-- `until`.
CREATE TABLE mail_bounces (
    address TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    until BIGINT NOT NULL
);
