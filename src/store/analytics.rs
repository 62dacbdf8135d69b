//! What the analytics read: the conversations started in a period, with
//! their messages, handoffs and feedback, as stored. The figures are
//! computed from these rows outside the store, the same way on both
//! backends (the decisions are JSON, which SQLite and PostgreSQL query
//! differently).

use super::mail::{Kind, Value, int};
use super::{Author, Store, StoreError, rows};

/// The conversations started at `$1` or later and before `$2`.
const CONVERSATIONS: &str = "SELECT id, customer_id, channel, state, summary, created_at \
     FROM conversations WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id";

const MESSAGES: &str = "SELECT m.conversation_id, m.seq, m.author, m.text, m.decision, m.created_at \
     FROM messages m JOIN conversations c ON c.id = m.conversation_id \
     WHERE c.created_at >= $1 AND c.created_at < $2 ORDER BY m.conversation_id, m.seq";

/// Own handoffs only: an update adds to a handoff, it is not another
/// escalation.
const HANDOFFS: &str = "SELECT h.id, h.conversation_id, h.reason, h.priority, h.payload, h.created_at \
     FROM handoffs h JOIN conversations c ON c.id = h.conversation_id \
     WHERE c.created_at >= $1 AND c.created_at < $2 AND h.updates IS NULL \
     ORDER BY h.conversation_id, h.created_at";

const FEEDBACK: &str = "SELECT f.conversation_id, f.csat, \
     CASE WHEN f.helpful THEN 1 WHEN NOT f.helpful THEN 0 END, f.created_at \
     FROM feedback f JOIN conversations c ON c.id = f.conversation_id \
     WHERE c.created_at >= $1 AND c.created_at < $2 ORDER BY f.conversation_id, f.created_at";

/// A conversation as the analytics see it.
#[derive(Debug, Clone)]
pub struct AnalyticsConversation {
    /// Its id.
    pub id: String,
    /// Its customer.
    pub customer_id: String,
    /// `chat` or `email`.
    pub channel: String,
    /// Its language, once a message showed it.
    pub locale: Option<String>,
    /// Its one-line summary.
    pub summary: Option<String>,
    /// When it started, in milliseconds.
    pub created_at: i64,
}

/// One message.
#[derive(Debug, Clone)]
pub struct AnalyticsMessage {
    /// Its conversation.
    pub conversation_id: String,
    /// Its place in the conversation.
    pub seq: i64,
    /// Who wrote it.
    pub author: Author,
    /// The text.
    pub text: String,
    /// The decision behind a customer message, as stored (JSON).
    pub decision: Option<String>,
    /// When, in milliseconds.
    pub created_at: i64,
}

/// One handoff of a conversation (not an update to one).
#[derive(Debug, Clone)]
pub struct AnalyticsHandoff {
    /// Its id.
    pub id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Why.
    pub reason: String,
    /// How urgent.
    pub priority: String,
    /// The body sent to the help desk, once built (JSON).
    pub payload: Option<String>,
    /// When it was made, in milliseconds.
    pub created_at: i64,
}

/// Feedback on a conversation.
#[derive(Debug, Clone)]
pub struct AnalyticsFeedback {
    /// Its conversation.
    pub conversation_id: String,
    /// The satisfaction score given, if any.
    pub csat: Option<i64>,
    /// Whether the answer helped, if said.
    pub helpful: Option<bool>,
    /// When, in milliseconds.
    pub created_at: i64,
}

/// The rows behind the analytics of a period.
#[derive(Debug, Clone, Default)]
pub struct AnalyticsRows {
    /// The conversations, oldest first.
    pub conversations: Vec<AnalyticsConversation>,
    /// Their messages, by conversation and place.
    pub messages: Vec<AnalyticsMessage>,
    /// Their handoffs, by conversation, oldest first.
    pub handoffs: Vec<AnalyticsHandoff>,
    /// Their feedback.
    pub feedback: Vec<AnalyticsFeedback>,
}

fn take(row: &mut std::vec::IntoIter<Value>) -> Value {
    row.next().unwrap_or(Value::Int(None))
}

fn text_of(row: &mut std::vec::IntoIter<Value>) -> String {
    take(row).text().unwrap_or_default()
}

fn int_of(row: &mut std::vec::IntoIter<Value>) -> i64 {
    take(row).int().unwrap_or_default()
}

/// The locale in a stored conversation state, if it has one.
fn state_locale(state: &str) -> Option<String> {
    let state: serde_json::Value = serde_json::from_str(state).ok()?;
    state.get("locale")?.as_str().map(str::to_owned)
}

impl Store {
    /// The conversations started from `from` (inclusive) to `until`
    /// (exclusive), in milliseconds, with their messages, handoffs and
    /// feedback.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn analytics_rows(&self, from: i64, until: i64) -> Result<AnalyticsRows, StoreError> {
        use Kind::{Int, Text};
        let period = || vec![int(from), int(until)];
        let conversations = self
            .query(
                CONVERSATIONS,
                period(),
                &[Text, Text, Text, Text, Text, Int],
            )
            .await?
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                AnalyticsConversation {
                    id: text_of(&mut row),
                    customer_id: text_of(&mut row),
                    channel: text_of(&mut row),
                    locale: state_locale(&text_of(&mut row)),
                    summary: take(&mut row).text(),
                    created_at: int_of(&mut row),
                }
            })
            .collect();
        let messages = self
            .query(MESSAGES, period(), &[Text, Int, Text, Text, Text, Int])
            .await?
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                Ok(AnalyticsMessage {
                    conversation_id: text_of(&mut row),
                    seq: int_of(&mut row),
                    author: rows::stored("author", &text_of(&mut row))?,
                    text: text_of(&mut row),
                    decision: take(&mut row).text(),
                    created_at: int_of(&mut row),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let handoffs = self
            .query(HANDOFFS, period(), &[Text, Text, Text, Text, Text, Int])
            .await?
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                AnalyticsHandoff {
                    id: text_of(&mut row),
                    conversation_id: text_of(&mut row),
                    reason: text_of(&mut row),
                    priority: text_of(&mut row),
                    payload: take(&mut row).text(),
                    created_at: int_of(&mut row),
                }
            })
            .collect();
        let feedback = self
            .query(FEEDBACK, period(), &[Text, Int, Int, Int])
            .await?
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                AnalyticsFeedback {
                    conversation_id: text_of(&mut row),
                    csat: take(&mut row).int(),
                    helpful: take(&mut row).int().map(|h| h != 0),
                    created_at: int_of(&mut row),
                }
            })
            .collect();
        Ok(AnalyticsRows {
            conversations,
            messages,
            handoffs,
            feedback,
        })
    }
}
