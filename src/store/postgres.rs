//! The PostgreSQL backend, with sqlx: a pool shared by every replica's
//! requests.

use std::fmt::Write as _;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::mail::{Kind, Value};
use super::rows::{
    ConversationRow, CustomerMessageRow, EarlierRow, HandoffRow, MessageRow, StoredEvent,
    SummaryRow,
};
use super::{Cursor, HandoffValues, NewConversation, StoreError, sql};

const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement waits for a lock (PostgreSQL's `lock_timeout`).
const LOCK_TIMEOUT: &str = "5s";

pub(super) async fn connect(url: &str) -> Result<PgPool, StoreError> {
    // One connection first, on its own: the pool would retry until its
    // timeout and then report only that, hiding the cause (a refused
    // connection, a wrong password, a missing database).
    let first = sqlx::postgres::PgConnection::connect(url).await?;
    sqlx::Connection::close(first).await?;
    // A statement waits at most this long for a row another holds; then
    // it fails as a conflict, which the client may send again.
    let options = url
        .parse::<sqlx::postgres::PgConnectOptions>()?
        .options([("lock_timeout", LOCK_TIMEOUT)]);
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(POOL_TIMEOUT)
        .connect_with(options)
        .await?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(pool)
}

pub(super) async fn probe(pool: &PgPool, now: i64) -> Result<(), StoreError> {
    sqlx::query(sql::PROBE).bind(now).execute(pool).await?;
    Ok(())
}

pub(super) async fn ping(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

pub(super) async fn create_conversation(
    pool: &PgPool,
    new: &NewConversation,
    state: &str,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let customer_id: String = sqlx::query_scalar(sql::UPSERT_CUSTOMER)
        .bind(&new.customer_id)
        .bind(&new.external_id)
        .bind(&new.email)
        .bind(&new.name)
        .bind(new.at)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(sql::INSERT_CONVERSATION)
        .bind(&new.id)
        .bind(&new.token_hash)
        .bind(&customer_id)
        .bind(new.channel.as_str())
        .bind(new.identity.as_str())
        .bind(new.state.status.as_str())
        .bind(state)
        .bind(new.at)
        .bind(new.at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn conversation(
    pool: &PgPool,
    id: &str,
) -> Result<Option<ConversationRow>, StoreError> {
    Ok(sqlx::query_as(sql::CONVERSATION)
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

/// One round trip: the version check, the state and the messages in one
/// statement (PostgreSQL runs a statement atomically, and a data-modifying
/// `WITH` lets the insert number the messages from the update's count).
/// Each round trip to the database costs more than the statement, so this
/// is the one place where PostgreSQL's SQL differs from SQLite's.
pub(super) async fn record<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    change: &super::Change<'_>,
) -> Result<i64, StoreError> {
    let statement = record_sql(
        change.messages.len(),
        change.handoff.is_some(),
        change.events.len(),
    );
    let last_event = change.events.last().map_or(0, |e| e.id);
    let update = sqlx::query_scalar(sqlx::AssertSqlSafe(statement))
        .bind(change.state)
        .bind(change.status)
        .bind(change.at)
        .bind(change.summary)
        .bind(change.count)
        .bind(change.id)
        .bind(change.version)
        .bind(last_event);
    let update = change.messages.iter().fold(update, |query, message| {
        query
            .bind(message.author.as_str())
            .bind(&message.agent)
            .bind(&message.text)
            .bind(&message.intent)
            .bind(&message.decision)
    });
    let update = match change.handoff {
        Some(handoff) => update
            .bind(&handoff.id)
            .bind(handoff.reason.as_str())
            .bind(handoff.priority.as_str())
            .bind(&handoff.intent)
            .bind(handoff.due)
            .bind(handoff.kind.as_str()),
        None => update,
    };
    let update = change.events.iter().fold(update, |query, event| {
        query.bind(event.id).bind(event.kind).bind(&event.body)
    });
    let last: Option<i64> = update.fetch_optional(executor).await?;
    last.ok_or(StoreError::Conflict)
}

/// Reads the conversation with its row locked (`FOR UPDATE`) and writes
/// what `prepare` makes of it in the same transaction: writers of one
/// conversation, on any replica, take turns. `None` when the conversation
/// does not exist or `prepare` writes nothing.
pub(super) async fn record_serialized(
    pool: &PgPool,
    id: &str,
    at: i64,
    prepare: super::Prepare<'_>,
) -> Result<Option<i64>, StoreError> {
    // No connection free in time: the writers of this conversation are
    // many; the client may send it again.
    let mut tx = pool.begin().await.map_err(|e| match StoreError::from(e) {
        StoreError::Busy(_) => StoreError::Conflict,
        other => other,
    })?;
    let row: Option<ConversationRow> = sqlx::query_as(sql::CONVERSATION_FOR_UPDATE)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    // Dropping the transaction rolls it back.
    let Some(prepared) = prepare(row.into_record()?)? else {
        return Ok(None);
    };
    let change = prepared.change(id, at);
    let last = record(&mut *tx, &change).await?;
    insert_mails(&mut tx, &change, last).await?;
    tx.commit().await?;
    Ok(Some(last))
}

/// The conversation's update (`sql::UPDATE_CONVERSATION`), also setting
/// its last event (`$8`): one statement can change the row only once.
const UPDATE_CONVERSATION: &str = "UPDATE conversations SET state = $1, status = $2, \
     version = version + 1, updated_at = $3, summary = COALESCE(summary, $4), \
     message_count = message_count + $5, event_count = GREATEST(event_count, $8) \
     WHERE id = $6 AND version = $7 RETURNING message_count";

/// The first parameter after the update's.
const FIRST: usize = 9;

/// The statement of [`record`] for `messages` messages (and a handoff, and
/// `events` events): the update of [`UPDATE_CONVERSATION`], then the
/// messages' rows, numbered from the new count, then the handoff, then the
/// events; it returns the count, or no row when the version did not match
/// (and then inserts nothing).
fn record_sql(messages: usize, handoff: bool, events: usize) -> String {
    /// The parameters of one message: author, agent, text, intent, decision.
    const PER_MESSAGE: usize = 5;
    /// The parameters of the handoff.
    const HANDOFF: usize = 6;
    /// The parameters of one event: id, kind, body.
    const PER_EVENT: usize = 3;
    if messages == 0 && !handoff && events == 0 {
        return UPDATE_CONVERSATION.to_owned();
    }
    let mut statement = format!("WITH updated AS ({UPDATE_CONVERSATION})");
    if messages > 0 {
        let rows: Vec<String> = (0..messages)
            .map(|m| {
                let p = FIRST + m * PER_MESSAGE;
                format!(
                    "({n}, ${p}, ${b}, ${c}, ${d}, ${e})",
                    n = m + 1,
                    b = p + 1,
                    c = p + 2,
                    d = p + 3,
                    e = p + 4
                )
            })
            .collect();
        let _ = write!(
            statement,
            ", inserted AS (INSERT INTO messages (conversation_id, seq, author, agent, text, intent, decision, created_at) \
             SELECT $6, updated.message_count - $5 + v.n, v.author, v.agent, v.text, v.intent, v.decision, $3 \
             FROM updated, (VALUES {}) AS v (n, author, agent, text, intent, decision))",
            rows.join(", ")
        );
    }
    if handoff {
        // A handoff not attempted yet takes in the new one
        // (`sql::RELEASE_HANDOFF`); otherwise it is inserted, as an update
        // of the conversation's handoff (`sql::UPDATED_HANDOFF`) or one of
        // its own, or not at all for an update of nothing.
        let p = FIRST + messages * PER_MESSAGE;
        let _ = write!(
            statement,
            ", released AS (UPDATE handoffs SET seq = (SELECT message_count FROM updated), \
             reason = ${r}, priority = ${q}, intent = COALESCE(${i}, intent), next_attempt_at = ${d}, updated_at = $3 \
             WHERE conversation_id = $6 AND status = 'pending' AND attempts = 0 AND payload IS NULL \
             AND (${k} <> 'new' OR updates IS NULL) \
             AND EXISTS (SELECT 1 FROM updated) RETURNING id), \
             parent AS (SELECT id FROM handoffs WHERE conversation_id = $6 AND updates IS NULL \
             AND ${k} <> 'new' ORDER BY created_at DESC, id DESC LIMIT 1), \
             handoff AS (INSERT INTO handoffs (id, conversation_id, seq, reason, priority, intent, status, attempts, next_attempt_at, created_at, updated_at, updates) \
             SELECT ${p}, $6, updated.message_count, ${r}, ${q}, ${i}, 'pending', 0, ${d}, $3, $3, parent.id \
             FROM updated LEFT JOIN parent ON true \
             WHERE NOT EXISTS (SELECT 1 FROM released) AND (${k} <> 'update' OR parent.id IS NOT NULL))",
            r = p + 1,
            q = p + 2,
            i = p + 3,
            d = p + 4,
            k = p + 5
        );
    }
    if events > 0 {
        let first = FIRST + messages * PER_MESSAGE + if handoff { HANDOFF } else { 0 };
        let rows: Vec<String> = (0..events)
            .map(|e| {
                let p = first + e * PER_EVENT;
                format!("(${p}::BIGINT, ${k}, ${b})", k = p + 1, b = p + 2)
            })
            .collect();
        let _ = write!(
            statement,
            ", stored_events AS (INSERT INTO events (conversation_id, id, kind, body, created_at) \
             SELECT $6, v.id, v.kind, v.body, $3 FROM updated, (VALUES {}) AS v (id, kind, body))",
            rows.join(", ")
        );
    }
    statement.push_str(" SELECT message_count FROM updated");
    statement
}

pub(super) async fn events_after(
    pool: &PgPool,
    id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    Ok(sqlx::query_as(sql::EVENTS_AFTER)
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn transcript(
    pool: &PgPool,
    id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    Ok(sqlx::query_as(sql::TRANSCRIPT)
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn customer_messages(
    pool: &PgPool,
    from: Option<i64>,
    to: Option<i64>,
    limit: i64,
) -> Result<Vec<CustomerMessageRow>, StoreError> {
    Ok(sqlx::query_as(sql::CUSTOMER_MESSAGES)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn list(
    pool: &PgPool,
    status: Option<&str>,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<SummaryRow>, StoreError> {
    Ok(sqlx::query_as(sql::LIST)
        .bind(status)
        .bind(after.map(|c| c.at))
        .bind(after.map(|c| c.id.as_str()))
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn earlier(
    pool: &PgPool,
    customer_id: &str,
    except: &str,
) -> Result<Vec<EarlierRow>, StoreError> {
    Ok(sqlx::query_as(sql::EARLIER)
        .bind(customer_id)
        .bind(except)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn add_feedback(
    pool: &PgPool,
    feedback: &super::Feedback<'_>,
) -> Result<(), StoreError> {
    sqlx::query(sql::INSERT_FEEDBACK)
        .bind(feedback.conversation)
        .bind(feedback.helpful)
        .bind(feedback.csat)
        .bind(feedback.comment)
        .bind(feedback.at)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn delete_customer(pool: &PgPool, id: &str) -> Result<u64, StoreError> {
    Ok(sqlx::query(sql::DELETE_CUSTOMER)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected())
}

pub(super) async fn purge_before(pool: &PgPool, before: i64) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let purged = sqlx::query(sql::PURGE_CONVERSATIONS)
        .bind(before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(sql::PURGE_CUSTOMERS).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(purged)
}

pub(super) async fn claim_handoff(
    pool: &PgPool,
    now: i64,
    lease_until: i64,
) -> Result<Option<HandoffRow>, StoreError> {
    // SKIP LOCKED: replicas on one database never take the same handoff.
    Ok(
        sqlx::query_as(sqlx::AssertSqlSafe(sql::claim_handoff(true)))
            .bind(lease_until)
            .bind(now)
            .fetch_optional(pool)
            .await?,
    )
}

pub(super) async fn updated_up_to(
    pool: &PgPool,
    parent: &str,
    update: &str,
    seq: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(sql::UPDATED_UP_TO)
        .bind(parent)
        .bind(update)
        .bind(seq)
        .fetch_one(pool)
        .await?)
}

pub(super) async fn handoff(pool: &PgPool, id: &str) -> Result<Option<HandoffRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql::handoff()))
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub(super) async fn handoffs(
    pool: &PgPool,
    status: Option<&str>,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<Vec<HandoffRow>, StoreError> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql::list_handoffs()))
        .bind(status)
        .bind(after.map(|c| c.at))
        .bind(after.map(|c| c.id.as_str()))
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub(super) async fn handoff_counts(pool: &PgPool) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(sql::COUNT_HANDOFFS).fetch_all(pool).await?)
}

pub(super) async fn requeue_handoff(pool: &PgPool, id: &str, now: i64) -> Result<bool, StoreError> {
    let changed = sqlx::query(sql::HANDOFF_REQUEUE)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(changed > 0)
}

pub(super) async fn write_handoff(
    pool: &PgPool,
    values: &HandoffValues<'_>,
) -> Result<bool, StoreError> {
    let query = sqlx::query(values.statement());
    let query = match *values {
        HandoffValues::Payload { id, payload } => query.bind(payload).bind(id),
        HandoffValues::Delivered {
            id,
            attempt,
            ticket_id,
            ticket_url,
            now,
        } => query
            .bind(ticket_id)
            .bind(ticket_url)
            .bind(now)
            .bind(id)
            .bind(attempt),
        HandoffValues::Retry {
            id,
            attempt,
            next,
            error,
            now,
        } => query
            .bind(next)
            .bind(error)
            .bind(now)
            .bind(id)
            .bind(attempt),
        HandoffValues::Dead {
            id,
            attempt,
            error,
            now,
        } => query.bind(error).bind(now).bind(id).bind(attempt),
    };
    Ok(query.execute(pool).await?.rows_affected() > 0)
}

fn bind_all(
    mut query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    params: Vec<Value>,
) -> sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments> {
    for param in params {
        query = match param {
            Value::Text(t) => query.bind(t),
            Value::Int(i) => query.bind(i),
            Value::Bytes(b) => query.bind(b),
        };
    }
    query
}

/// Runs one statement of the mail tables.
pub(super) async fn exec<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    sql: &str,
    params: Vec<Value>,
) -> Result<u64, StoreError> {
    let query = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), params);
    Ok(query.execute(executor).await?.rows_affected())
}

/// Reads rows of the mail tables.
pub(super) async fn query(
    pool: &PgPool,
    sql: &str,
    params: Vec<Value>,
    kinds: &[Kind],
) -> Result<Vec<Vec<Value>>, StoreError> {
    use sqlx::Row as _;
    let query = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), params);
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    Ok(match kind {
                        Kind::Text => Value::Text(row.try_get(i)?),
                        // `COUNT(*)` is BIGINT, a literal INTEGER.
                        Kind::Int => {
                            Value::Int(row.try_get::<Option<i64>, _>(i).or_else(|_| {
                                row.try_get::<Option<i32>, _>(i).map(|v| v.map(i64::from))
                            })?)
                        }
                        Kind::Bytes => {
                            Value::Bytes(row.try_get::<Option<Vec<u8>>, _>(i)?.unwrap_or_default())
                        }
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .collect()
}

/// [`record`] and the change's mails, in one transaction.
pub(super) async fn record_with_mails(
    pool: &PgPool,
    change: &super::Change<'_>,
) -> Result<i64, StoreError> {
    let mut tx = pool.begin().await?;
    let last = record(&mut *tx, change).await?;
    insert_mails(&mut tx, change, last).await?;
    tx.commit().await?;
    Ok(last)
}

async fn insert_mails(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    change: &super::Change<'_>,
    last: i64,
) -> Result<(), StoreError> {
    for mail in change.mails {
        let seq = match mail.direction {
            super::MailDirection::In => last - change.count + 1,
            super::MailDirection::Out => last,
        };
        let params = super::mail::insert_params(mail, Some(change.id), Some(seq), change.at);
        exec(&mut **tx, super::mail::INSERT_MAIL, params).await?;
    }
    Ok(())
}
