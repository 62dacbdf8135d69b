//! The statements of the store, written once for both backends: numbered
//! `$N` parameters, which PostgreSQL and SQLite both bind by number.

pub const CUSTOMER_BY_EXTERNAL_ID: &str = "SELECT id FROM customers WHERE external_id = $1";

pub const UPDATE_CUSTOMER: &str =
    "UPDATE customers SET email = COALESCE($1, email), name = COALESCE($2, name) WHERE id = $3";

pub const INSERT_CUSTOMER: &str =
    "INSERT INTO customers (id, external_id, email, name, created_at) VALUES ($1, $2, $3, $4, $5)";

pub const INSERT_CONVERSATION: &str = "INSERT INTO conversations \
     (id, token_hash, customer_id, channel, identity, status, state, version, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)";

pub const CONVERSATION: &str = "SELECT c.id, c.token_hash, c.customer_id, c.channel, c.identity, \
     c.state, c.version, c.summary, c.created_at, c.updated_at, u.external_id, u.email, u.name \
     FROM conversations c JOIN customers u ON u.id = c.customer_id WHERE c.id = $1";

/// Checks the version, saves the state and counts the messages in one
/// statement; the count numbers the new messages.
pub const UPDATE_CONVERSATION: &str = "UPDATE conversations SET state = $1, status = $2, \
     version = version + 1, updated_at = $3, summary = COALESCE($4, summary), \
     message_count = message_count + $5 WHERE id = $6 AND version = $7 RETURNING message_count";

pub const TRANSCRIPT: &str = "SELECT seq, author, agent, text, intent, decision, created_at \
     FROM messages WHERE conversation_id = $1 ORDER BY seq";

/// `$1` is compared as text on both backends.
pub const LIST: &str = "SELECT c.id, c.channel, c.identity, c.status, c.summary, c.created_at, \
     c.updated_at, u.email, u.name FROM conversations c JOIN customers u ON u.id = c.customer_id \
     WHERE ($1 IS NULL OR c.status = $1) ORDER BY c.updated_at DESC LIMIT $2";

pub const EARLIER: &str = "SELECT id, identity, summary, created_at FROM conversations \
     WHERE customer_id = $1 AND id <> $2 ORDER BY created_at DESC LIMIT 20";

pub const INSERT_FEEDBACK: &str = "INSERT INTO feedback \
     (conversation_id, helpful, csat, comment, created_at) VALUES ($1, $2, $3, $4, $5)";

pub const DELETE_CUSTOMER: &str = "DELETE FROM customers WHERE id = $1";

pub const PURGE_CONVERSATIONS: &str = "DELETE FROM conversations WHERE updated_at < $1";

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
