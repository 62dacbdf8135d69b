-- Customers, their conversations, the messages with the decision behind
-- each, and feedback. Times are milliseconds since the Unix epoch (UTC).
CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    external_id TEXT UNIQUE,
    email TEXT,
    name TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX customers_email ON customers (email);

CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    identity TEXT NOT NULL,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    summary TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX conversations_customer ON conversations (customer_id, created_at);
CREATE INDEX conversations_status ON conversations (status, updated_at);
CREATE INDEX conversations_updated ON conversations (updated_at);

CREATE TABLE messages (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    author TEXT NOT NULL,
    agent TEXT,
    text TEXT NOT NULL,
    intent TEXT,
    decision TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE feedback (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    helpful INTEGER,
    csat INTEGER,
    comment TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX feedback_conversation ON feedback (conversation_id);
