//! The statements of the store, written once for both backends: numbered
//! `$N` parameters, which PostgreSQL and SQLite both bind by number. SQLite
//! numbers `$N` in the order the parameters first appear, so each statement
//! uses `$1`, `$2`... in that order.

/// A new customer, or the one with the same verified external id (two first
/// conversations at once cannot both insert it).
pub const UPSERT_CUSTOMER: &str = "INSERT INTO customers (id, external_id, email, name, created_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (external_id) DO UPDATE SET \
     email = COALESCE(excluded.email, customers.email), name = COALESCE(excluded.name, customers.name) \
     RETURNING id";

pub const INSERT_CONVERSATION: &str = "INSERT INTO conversations \
     (id, token_hash, customer_id, channel, identity, status, state, version, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)";

pub const CONVERSATION: &str = "SELECT c.id, c.token_hash, c.customer_id, c.channel, c.identity, \
     c.state, c.version, c.message_count, c.event_count, c.summary, c.created_at, c.updated_at, u.external_id, u.email, \
     u.name FROM conversations c JOIN customers u ON u.id = c.customer_id WHERE c.id = $1";

/// Rewrites the probe row: whether the database takes writes.
pub const PROBE: &str = "INSERT INTO probes (id, at) VALUES (1, $1) \
     ON CONFLICT (id) DO UPDATE SET at = excluded.at";

/// The conversation, its row locked until the transaction ends
/// (PostgreSQL): the writers of one conversation take turns.
pub const CONVERSATION_FOR_UPDATE: &str = "SELECT c.id, c.token_hash, c.customer_id, c.channel, c.identity, \
     c.state, c.version, c.message_count, c.event_count, c.summary, c.created_at, c.updated_at, u.external_id, u.email, \
     u.name FROM conversations c JOIN customers u ON u.id = c.customer_id WHERE c.id = $1 FOR UPDATE OF c";

/// Checks the version, saves the state and counts the messages in one
/// statement; the count numbers the new messages.
pub const UPDATE_CONVERSATION: &str = "UPDATE conversations SET state = $1, status = $2, \
     version = version + 1, updated_at = $3, summary = COALESCE(summary, $4), \
     message_count = message_count + $5 WHERE id = $6 AND version = $7 RETURNING message_count";

/// The conversation's last event, after a write that added events (they are
/// numbered from the count as read, which the version check proved
/// current).
pub const SET_EVENT_COUNT: &str = "UPDATE conversations SET event_count = $1 WHERE id = $2";

pub const INSERT_EVENT: &str =
    "INSERT INTO events (conversation_id, id, kind, body, created_at) VALUES ($1, $2, $3, $4, $5)";

/// A conversation's events after `$2`, at most `$3`, in order.
pub const EVENTS_AFTER: &str = "SELECT id, kind, body FROM events \
     WHERE conversation_id = $1 AND id > $2 ORDER BY id LIMIT $3";

/// The messages after place `$2`, at most `$3`.
pub const TRANSCRIPT: &str = "SELECT seq, author, agent, text, intent, decision, created_at \
     FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/// Customer messages with their conversation's channel, written at or
/// after `$1` and before `$2` (either may be null), the latest `$3`.
pub const CUSTOMER_MESSAGES: &str = "SELECT m.conversation_id, m.seq, m.text, m.intent, \
     m.decision, m.created_at, c.channel FROM messages m JOIN conversations c ON c.id = m.conversation_id \
     WHERE m.author = 'customer' AND ($1 IS NULL OR m.created_at >= $1) \
     AND ($2 IS NULL OR m.created_at < $2) \
     ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC LIMIT $3";

/// `$1` is compared as text on both backends.
/// Newest activity first; after the cursor (`$2`, `$3`: the last
/// conversation's `updated_at` and id) when one is given; `$4` at most.
pub const LIST: &str = "SELECT c.id, c.channel, c.identity, c.status, c.summary, c.created_at, \
     c.updated_at, u.email, u.name FROM conversations c JOIN customers u ON u.id = c.customer_id \
     WHERE ($1 IS NULL OR c.status = $1) \
     AND ($2 IS NULL OR c.updated_at < $2 OR (c.updated_at = $2 AND c.id < $3)) \
     ORDER BY c.updated_at DESC, c.id DESC LIMIT $4";

pub const EARLIER: &str = "SELECT id, identity, summary, created_at FROM conversations \
     WHERE customer_id = $1 AND id <> $2 ORDER BY created_at DESC LIMIT 20";

pub const INSERT_FEEDBACK: &str = "INSERT INTO feedback \
     (conversation_id, helpful, csat, comment, created_at) VALUES ($1, $2, $3, $4, $5)";

pub const DELETE_CUSTOMER: &str = "DELETE FROM customers WHERE id = $1";

/// A conversation whose handoff is not delivered yet is kept: the outbox
/// never loses a handoff, not even to the retention.
pub const PURGE_CONVERSATIONS: &str = "DELETE FROM conversations WHERE updated_at < $1 \
     AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.conversation_id = conversations.id \
     AND h.status <> 'delivered')";

pub const PURGE_CUSTOMERS: &str = "DELETE FROM customers WHERE NOT EXISTS \
     (SELECT 1 FROM conversations c WHERE c.customer_id = customers.id)";

/// The columns of one message row.
pub const MESSAGE_COLUMNS: usize = 8;

/// `INSERT INTO messages` of `rows` rows in one statement: its own
/// numbered placeholders only, no outside text.
pub fn insert_messages(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO messages (conversation_id, seq, author, agent, text, intent, decision, created_at) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (1..=MESSAGE_COLUMNS)
            .map(|c| format!("${}", row * MESSAGE_COLUMNS + c))
            .collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql
}

/// A handoff not attempted yet takes in a new one of its conversation
/// (`$8`: the new one's kind): with the transcript up to now, the new
/// reason and priority, instead of making a second. A new escalation is
/// taken in by a handoff of its own only, never by a pending update. One
/// whose body is built (put back in the outbox by hand, sent unchanged)
/// takes in nothing more: what is new goes as an update.
pub const RELEASE_HANDOFF: &str = "UPDATE handoffs SET seq = $1, reason = $2, priority = $3, \
     intent = COALESCE($4, intent), next_attempt_at = $5, updated_at = $6 \
     WHERE conversation_id = $7 AND status = 'pending' AND attempts = 0 AND payload IS NULL \
     AND ($8 <> 'new' OR updates IS NULL)";

/// The conversation's latest handoff of its own, that an update adds to:
/// none for a new escalation (`$2`).
pub const UPDATED_HANDOFF: &str = "SELECT id FROM handoffs \
     WHERE conversation_id = $1 AND updates IS NULL AND $2 <> 'new' \
     ORDER BY created_at DESC, id DESC LIMIT 1";

pub const INSERT_HANDOFF: &str = "INSERT INTO handoffs \
     (id, conversation_id, seq, reason, priority, intent, status, attempts, next_attempt_at, created_at, updated_at, updates) \
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $8, $9)";

/// The columns a claimed handoff comes back with.
const HANDOFF_COLUMNS: &str = "id, conversation_id, seq, reason, priority, intent, status, \
     attempts, next_attempt_at, last_error, payload, ticket_id, ticket_url, updates, created_at, \
     updated_at";

/// Takes the most urgent handoff that is due (a safety handoff first, even
/// behind a backlog): pushes its next attempt to the end of the
/// lease (`$1`), so no other worker takes it meanwhile, and counts the
/// attempt. `$2` is now. An update waits until the handoff it adds to is
/// delivered (the ticket must exist to be added to). SQLite has one
/// writer, so the subquery cannot race.
pub fn claim_handoff(skip_locked: bool) -> String {
    let lock = if skip_locked {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    format!(
        "UPDATE handoffs SET next_attempt_at = $1, attempts = attempts + 1, updated_at = $2 \
         WHERE id = (SELECT id FROM handoffs h WHERE status = 'pending' AND next_attempt_at <= $2 \
         AND (updates IS NULL OR EXISTS (SELECT 1 FROM handoffs p WHERE p.id = h.updates AND p.status = 'delivered')) \
         ORDER BY CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, \
         next_attempt_at, created_at LIMIT 1{lock}) RETURNING {HANDOFF_COLUMNS}"
    )
}

/// Where the updates of `$1` before `$2` (whose messages end at `$3`)
/// ended: the last message the ticket has already been sent. Updates of one
/// handoff follow the conversation, so an earlier one ends earlier.
pub const UPDATED_UP_TO: &str = "SELECT MAX(seq) FROM handoffs WHERE updates = $1 \
     AND id <> $2 AND seq < $3";

pub fn handoff() -> String {
    format!("SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE id = $1")
}

pub fn list_handoffs() -> String {
    format!(
        "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE ($1 IS NULL OR status = $1) \
         AND ($2 IS NULL OR created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    )
}

pub const COUNT_HANDOFFS: &str = "SELECT status, COUNT(*) AS n FROM handoffs GROUP BY status";

pub const SET_HANDOFF_PAYLOAD: &str =
    "UPDATE handoffs SET payload = $1 WHERE id = $2 AND payload IS NULL";

// The outcome of an attempt is written only by the worker that holds it:
// the handoff is still pending at the attempt it claimed (`$5`/`$4`). A
// worker whose lease ran out changes nothing.

pub const HANDOFF_DELIVERED: &str = "UPDATE handoffs SET status = 'delivered', ticket_id = $1, \
     ticket_url = $2, last_error = NULL, updated_at = $3 \
     WHERE id = $4 AND status = 'pending' AND attempts = $5";

pub const HANDOFF_RETRY: &str = "UPDATE handoffs SET next_attempt_at = $1, last_error = $2, \
     updated_at = $3 WHERE id = $4 AND status = 'pending' AND attempts = $5";

pub const HANDOFF_DEAD: &str = "UPDATE handoffs SET status = 'dead', last_error = $1, \
     updated_at = $2 WHERE id = $3 AND status = 'pending' AND attempts = $4";

pub const HANDOFF_REQUEUE: &str = "UPDATE handoffs SET status = 'pending', attempts = 0, \
     next_attempt_at = $1, updated_at = $1 WHERE id = $2 AND status = 'dead'";
