//! The store: every SQL statement of madoguchi, on SQLite (a file in WAL
//! mode, the embedded default) or PostgreSQL (for several replicas), chosen
//! by the database URL.
//!
//! The two backends share one schema (a migration folder each, since their
//! types differ a little) and one set of statements ([`sql`]), written with
//! `$1`-style parameters that both bind by number. A conversation's new
//! messages and its new state are written in one transaction, guarded by a
//! version number, so that two messages racing on one conversation cannot
//! lose each other's state.

mod analytics;
mod decision;
mod gauges;
mod mail;
mod notices;
mod postgres;
mod rows;
mod sql;
mod sqlite;
mod url;

pub use analytics::{
    AnalyticsConversation, AnalyticsFeedback, AnalyticsHandoff, AnalyticsMessage, AnalyticsRows,
};
pub use decision::StoredDecision;
pub use mail::{
    Attachment, MailDetails, MailDirection, MailKind, MailOutcome, MailRecord, MailStatus, NewMail,
    QuarantinedMail,
};
pub use notices::Notice;
pub use rows::{
    Author, ConversationRecord, ConversationSummary, CustomerMessage, EarlierConversation,
    HandoffKind, HandoffRecord, HandoffStatus, Identity, MessageRecord, NewConversation, NewEvent,
    NewHandoff, NewMessage, StoredEvent,
};
pub use url::{DatabaseUrl, InvalidDatabaseUrl};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::postgres::PgPool;

use crate::engine::{ConversationState, Status};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// PostgreSQL refused or failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// SQLite refused or failed.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// The database cannot take writes now (a full disk, a read-only
    /// file or server) or cannot be reached: nothing was written, and it
    /// may work again later.
    #[error("the database cannot serve now: {0}")]
    Unavailable(String),
    /// The database is busy with others (no connection free in time, a
    /// lock held by another tool): nothing was written; try again soon.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// The PostgreSQL schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// Another message changed the conversation meanwhile: decide again.
    #[error("the conversation changed meanwhile")]
    Conflict,
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &err {
            rusqlite::Error::SqliteFailure(failure, _)
                if matches!(
                    failure.code,
                    ErrorCode::DiskFull
                        | ErrorCode::ReadOnly
                        | ErrorCode::SystemIoFailure
                        | ErrorCode::CannotOpen
                ) =>
            {
                StoreError::Unavailable(err.to_string())
            }
            rusqlite::Error::SqliteFailure(failure, _)
                if matches!(
                    failure.code,
                    ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Busy(err.to_string())
            }
            _ => StoreError::Sqlite(err),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            // Class 53: insufficient resources (disk full, out of memory,
            // too many connections); 25006: a read-only transaction (a
            // standby, or `default_transaction_read_only`); 57P: the server
            // is shutting down or starting.
            sqlx::Error::Database(e)
                if e.code().is_some_and(|c| {
                    c.starts_with("53") || c == "25006" || c.starts_with("57P")
                }) =>
            {
                StoreError::Unavailable(err.to_string())
            }
            // A lock not had in time (55P03, `lock_timeout`), a deadlock
            // (40P01), a serialization failure (40001): the writers of a
            // conversation raced; the client may send it again.
            sqlx::Error::Database(e)
                if e.code()
                    .is_some_and(|c| matches!(&*c, "55P03" | "40P01" | "40001")) =>
            {
                StoreError::Conflict
            }
            sqlx::Error::PoolTimedOut => StoreError::Busy(err.to_string()),
            sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Database(err),
        }
    }
}

/// The durability of SQLite writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous=NORMAL` with WAL: durable across a process crash.
    Normal,
    /// `synchronous=FULL`: durable across a power loss too.
    Full,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(Arc<sqlite::Sqlite>),
    Postgres(PgPool),
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// False from a write the database refused as unavailable (a full
    /// disk) until one succeeds: the service is then not ready.
    writable: Arc<AtomicBool>,
    /// This process's name among the replicas, on the notices of live
    /// events it sends.
    replica: Arc<str>,
}

/// One write to a conversation: its new state and the messages to append.
pub(crate) struct Change<'a> {
    id: &'a str,
    version: i64,
    messages: &'a [NewMessage],
    /// How many messages, as the database counts.
    count: i64,
    state: &'a str,
    status: &'a str,
    summary: Option<&'a str>,
    handoff: Option<&'a NewHandoff>,
    events: &'a [NewEvent],
    mails: &'a [NewMail],
    at: i64,
}

/// What one message (or agent action) writes to a conversation: appended
/// messages, the new state, a summary for the first message, and the
/// handoff an escalation puts in the outbox — all in one transaction.
#[derive(Debug, Clone, Copy)]
pub struct ConversationWrite<'a> {
    /// Messages to append.
    pub messages: &'a [NewMessage],
    /// The conversation's new state.
    pub state: &'a ConversationState,
    /// A one-line summary, kept only if the conversation has none.
    pub summary: Option<&'a str>,
    /// A handoff for the outbox.
    pub handoff: Option<&'a NewHandoff>,
    /// Live events to keep, numbered after the conversation's last.
    pub events: &'a [NewEvent],
    /// Mails received or to send with it.
    pub mails: &'a [NewMail],
}

impl<'a> Change<'a> {
    fn new(
        id: &'a str,
        version: i64,
        write: &ConversationWrite<'a>,
        state: &'a str,
        at: i64,
    ) -> Self {
        Change {
            id,
            version,
            messages: write.messages,
            count: i64::try_from(write.messages.len()).unwrap_or(i64::MAX),
            state,
            status: write.state.status.as_str(),
            summary: write.summary,
            handoff: write.handoff,
            events: write.events,
            mails: write.mails,
            at,
        }
    }

    /// The messages with their places, given the count after them.
    fn numbered(&self, last: i64) -> impl Iterator<Item = (i64, &'a NewMessage)> {
        let first = last - self.count + 1;
        (first..).zip(self.messages)
    }
}

/// A write to a conversation, planned from the conversation as read: the
/// owned form of [`ConversationWrite`].
#[derive(Debug, Clone)]
pub struct Planned {
    /// Messages to append.
    pub messages: Vec<NewMessage>,
    /// The conversation's new state.
    pub state: ConversationState,
    /// A one-line summary, kept only if the conversation has none.
    pub summary: Option<String>,
    /// A handoff for the outbox.
    pub handoff: Option<NewHandoff>,
    /// Live events to keep, numbered after the conversation's last.
    pub events: Vec<NewEvent>,
    /// Mails received or to send with it.
    pub mails: Vec<NewMail>,
}

impl Planned {
    /// The write, borrowed.
    #[must_use]
    pub fn as_write(&self) -> ConversationWrite<'_> {
        ConversationWrite {
            messages: &self.messages,
            state: &self.state,
            summary: self.summary.as_deref(),
            handoff: self.handoff.as_ref(),
            events: &self.events,
            mails: &self.mails,
        }
    }
}

/// A planned write, ready for the database.
pub(crate) struct Prepared {
    planned: Planned,
    state: String,
    version: i64,
}

impl Prepared {
    fn change<'a>(&'a self, id: &'a str, at: i64) -> Change<'a> {
        Change::new(id, self.version, &self.planned.as_write(), &self.state, at)
    }
}

/// What a backend's serialized write asks of the conversation it read.
pub(crate) type Prepare<'a> =
    &'a mut (dyn FnMut(ConversationRecord) -> Result<Option<Prepared>, StoreError> + Send);

/// Feedback on a conversation.
pub(crate) struct Feedback<'a> {
    conversation: &'a str,
    helpful: Option<bool>,
    csat: Option<i32>,
    comment: Option<&'a str>,
    at: i64,
}

fn corrupt(err: &serde_json::Error) -> StoreError {
    StoreError::Corrupt(err.to_string())
}

impl Store {
    /// Connects to `url` — an SQLite file (created if missing) or a
    /// PostgreSQL server — and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be opened, reached or
    /// migrated.
    pub async fn connect(url: &DatabaseUrl, durability: Durability) -> Result<Self, StoreError> {
        let backend = match url {
            DatabaseUrl::Sqlite(path) => {
                let path = path.clone();
                let opened =
                    tokio::task::spawn_blocking(move || sqlite::Sqlite::open(&path, durability))
                        .await
                        .map_err(|e| StoreError::Corrupt(e.to_string()))??;
                Backend::Sqlite(Arc::new(opened))
            }
            DatabaseUrl::Postgres(url) => Backend::Postgres(postgres::connect(url).await?),
        };
        Ok(Store {
            backend,
            writable: Arc::new(AtomicBool::new(true)),
            replica: crate::ids::new_id().into(),
        })
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Whether the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.ping().await,
            Backend::Postgres(pool) => postgres::ping(pool).await,
        }
    }

    /// Whether the service can take messages: the database answers, and
    /// takes writes (after a refused write, a probe row is rewritten at
    /// `now` to learn whether it does again).
    ///
    /// # Errors
    /// Why not.
    pub async fn ready(&self, now: i64) -> Result<(), StoreError> {
        self.ping().await?;
        if self.writable.load(Ordering::Relaxed) {
            return Ok(());
        }
        let probed = match &self.backend {
            Backend::Sqlite(db) => db.probe(now).await,
            Backend::Postgres(pool) => postgres::probe(pool, now).await,
        };
        self.noted(probed)
    }

    /// Notes whether a write went through, for [`Store::ready`].
    fn note_write<T>(&self, written: &Result<T, StoreError>) {
        match written {
            Ok(_) => self.writable.store(true, Ordering::Relaxed),
            Err(StoreError::Unavailable(why)) => {
                if self.writable.swap(false, Ordering::Relaxed) {
                    tracing::error!(error = %why, "the database refuses writes: not ready until it takes them again");
                }
            }
            Err(_) => {}
        }
    }

    /// Notes whether a write went through, for [`Store::ready`].
    fn noted<T>(&self, written: Result<T, StoreError>) -> Result<T, StoreError> {
        self.note_write(&written);
        written
    }

    /// Closes the database: PostgreSQL's connections close; SQLite's WAL is
    /// folded back into the database file (its connections close when the
    /// last handle goes).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => {
                if let Err(err) = db.close().await {
                    tracing::warn!(error = %err, "closing the SQLite database");
                }
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// Creates a conversation, and its customer unless one with the same
    /// verified external id exists.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn create_conversation(&self, new: &NewConversation) -> Result<(), StoreError> {
        let state = serde_json::to_string(&new.state).map_err(|e| corrupt(&e))?;
        self.noted(match &self.backend {
            Backend::Sqlite(db) => db.create_conversation(new, &state).await,
            Backend::Postgres(pool) => postgres::create_conversation(pool, new, &state).await,
        })
    }

    /// A conversation with its state, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the state is unreadable.
    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError> {
        let row = match &self.backend {
            Backend::Sqlite(db) => db.conversation(id).await?,
            Backend::Postgres(pool) => postgres::conversation(pool, id).await?,
        };
        row.map(rows::ConversationRow::into_record).transpose()
    }

    /// Writes `write` (messages, state, summary, handoff) in one
    /// transaction, if the conversation is still at `version`. Returns the
    /// transcript's last place (`seq`) afterwards.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another message changed it meanwhile.
    pub async fn record(
        &self,
        id: &str,
        version: i64,
        write: &ConversationWrite<'_>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let state_json = serde_json::to_string(write.state).map_err(|e| corrupt(&e))?;
        let change = Change::new(id, version, write, &state_json, at);
        let last = self.noted(match &self.backend {
            Backend::Sqlite(db) => db.record(&change).await,
            Backend::Postgres(pool) if change.mails.is_empty() => {
                postgres::record(pool, &change).await
            }
            Backend::Postgres(pool) => postgres::record_with_mails(pool, &change).await,
        })?;
        self.tell_replicas(id, write.events.last().map(|e| e.id))
            .await;
        Ok(last)
    }

    /// Reads the conversation, plans a write from it with `plan` and
    /// writes it, holding the conversation throughout so that no other
    /// write to it comes between: writers take turns in the database (a
    /// row lock on PostgreSQL, across replicas; the one writing connection
    /// on SQLite). Slower than [`Store::record`], which needs no lock and
    /// is right unless writers race. `plan` may refuse with its own error;
    /// then nothing is written. `None` when the conversation does not
    /// exist.
    ///
    /// # Errors
    /// `plan`'s error, or a [`StoreError`] when the database fails.
    pub async fn record_serialized<T, E>(
        &self,
        id: &str,
        at: i64,
        plan: impl FnOnce(&ConversationRecord) -> Result<(Planned, T), E> + Send,
    ) -> Result<Option<(i64, T)>, E>
    where
        T: Send,
        E: From<StoreError> + Send,
    {
        let mut plan = Some(plan);
        let mut planned: Option<Result<T, E>> = None;
        let mut last_event = None;
        let mut prepare = |record: ConversationRecord| -> Result<Option<Prepared>, StoreError> {
            let Some(plan) = plan.take() else {
                return Ok(None);
            };
            match plan(&record) {
                Ok((write, outcome)) => {
                    let state = serde_json::to_string(&write.state).map_err(|e| corrupt(&e))?;
                    planned = Some(Ok(outcome));
                    last_event = write.events.last().map(|e| e.id);
                    Ok(Some(Prepared {
                        planned: write,
                        state,
                        version: record.version,
                    }))
                }
                Err(refused) => {
                    planned = Some(Err(refused));
                    Ok(None)
                }
            }
        };
        let last = self.noted(match &self.backend {
            Backend::Sqlite(db) => db.record_serialized(id, at, &mut prepare).await,
            Backend::Postgres(pool) => {
                postgres::record_serialized(pool, id, at, &mut prepare).await
            }
        })?;
        if last.is_some() {
            self.tell_replicas(id, last_event).await;
        }
        match (last, planned) {
            (Some(last), Some(Ok(outcome))) => Ok(Some((last, outcome))),
            (_, Some(Err(refused))) => Err(refused),
            _ => Ok(None),
        }
    }

    /// The messages of a conversation, in order.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn transcript(&self, id: &str) -> Result<Vec<MessageRecord>, StoreError> {
        self.transcript_page(id, 0, i64::MAX).await
    }

    /// The messages of a conversation after place `after`, at most
    /// `limit`, in order.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn transcript_page(
        &self,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<MessageRecord>, StoreError> {
        let found = match &self.backend {
            Backend::Sqlite(db) => db.transcript(id, after, limit).await?,
            Backend::Postgres(pool) => postgres::transcript(pool, id, after, limit).await?,
        };
        found.into_iter().map(MessageRecord::try_from).collect()
    }

    /// Customers' messages written in `[from, to)` (milliseconds; either
    /// end open), the latest `limit`, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn customer_messages(
        &self,
        from: Option<i64>,
        to: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CustomerMessage>, StoreError> {
        let found = match &self.backend {
            Backend::Sqlite(db) => db.customer_messages(from, to, limit).await?,
            Backend::Postgres(pool) => postgres::customer_messages(pool, from, to, limit).await?,
        };
        found.into_iter().map(CustomerMessage::try_from).collect()
    }

    /// A conversation's live events after `after`, at most `limit`, in
    /// order: what a client that lost its connection missed.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn events_after(
        &self,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.events_after(id, after, limit).await,
            Backend::Postgres(pool) => postgres::events_after(pool, id, after, limit).await,
        }
    }

    /// Conversations, newest activity first, optionally in one state.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn list(
        &self,
        status: Option<Status>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let status = status.map(Status::as_str);
        let found = match &self.backend {
            Backend::Sqlite(db) => db.list(status, after, limit).await?,
            Backend::Postgres(pool) => postgres::list(pool, status, after, limit).await?,
        };
        found
            .into_iter()
            .map(ConversationSummary::try_from)
            .collect()
    }

    /// The customer's other conversations, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn earlier_conversations(
        &self,
        customer_id: &str,
        except: &str,
    ) -> Result<Vec<EarlierConversation>, StoreError> {
        let found = match &self.backend {
            Backend::Sqlite(db) => db.earlier(customer_id, except).await?,
            Backend::Postgres(pool) => postgres::earlier(pool, customer_id, except).await?,
        };
        found
            .into_iter()
            .map(EarlierConversation::try_from)
            .collect()
    }

    /// Records feedback on a conversation.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn add_feedback(
        &self,
        conversation: &str,
        helpful: Option<bool>,
        csat: Option<i32>,
        comment: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError> {
        let feedback = Feedback {
            conversation,
            helpful,
            csat,
            comment,
            at,
        };
        self.noted(match &self.backend {
            Backend::Sqlite(db) => db.add_feedback(&feedback).await,
            Backend::Postgres(pool) => postgres::add_feedback(pool, &feedback).await,
        })
    }

    /// Deletes a customer and everything about them (conversations,
    /// messages, feedback). Returns whether the customer existed.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn delete_customer(&self, customer_id: &str) -> Result<bool, StoreError> {
        // Their mails outside any conversation (not answered, bounces) and
        // their address's bounce hold go first; the rest goes with the
        // conversations.
        self.forget_mail_of(customer_id).await?;
        let deleted = match &self.backend {
            Backend::Sqlite(db) => db.delete_customer(customer_id).await?,
            Backend::Postgres(pool) => postgres::delete_customer(pool, customer_id).await?,
        };
        Ok(deleted > 0)
    }

    /// Purges conversations not updated since `before` (milliseconds), and
    /// customers left with none. Returns how many conversations went.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn purge_before(&self, before: i64) -> Result<u64, StoreError> {
        let purged = match &self.backend {
            Backend::Sqlite(db) => db.purge_before(before).await,
            Backend::Postgres(pool) => postgres::purge_before(pool, before).await,
        }?;
        self.purge_mail_before(before).await?;
        Ok(purged)
    }

    /// Takes the handoff whose attempt is due first (at `now`), holding it
    /// until `lease_until` so that no other worker takes it meanwhile; the
    /// attempt is counted. `None` when nothing is due.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn claim_handoff(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let row = match &self.backend {
            Backend::Sqlite(db) => db.claim_handoff(now, lease_until).await?,
            Backend::Postgres(pool) => postgres::claim_handoff(pool, now, lease_until).await?,
        };
        Ok(row.map(Claimed::from))
    }

    /// One handoff.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn handoff(&self, id: &str) -> Result<Option<HandoffRecord>, StoreError> {
        let row = match &self.backend {
            Backend::Sqlite(db) => db.handoff(id).await?,
            Backend::Postgres(pool) => postgres::handoff(pool, id).await?,
        };
        row.map(HandoffRecord::try_from).transpose()
    }

    /// The last message the updates of `update`'s handoff made before it
    /// carried, if there were any: where `update` takes up.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn updated_up_to(&self, update: &HandoffRecord) -> Result<Option<i64>, StoreError> {
        let Some(parent) = update.updates.as_deref() else {
            return Ok(None);
        };
        match &self.backend {
            Backend::Sqlite(db) => db.updated_up_to(parent, &update.id, update.seq).await,
            Backend::Postgres(pool) => {
                postgres::updated_up_to(pool, parent, &update.id, update.seq).await
            }
        }
    }

    /// Handoffs, newest first, optionally in one status.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn handoffs(
        &self,
        status: Option<HandoffStatus>,
        limit: i64,
    ) -> Result<Vec<HandoffRecord>, StoreError> {
        self.handoffs_page(status, None, limit).await
    }

    /// [`Store::handoffs`] after the cursor (the last handoff of the page
    /// before).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn handoffs_page(
        &self,
        status: Option<HandoffStatus>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<HandoffRecord>, StoreError> {
        let status = status.map(HandoffStatus::as_str);
        let found = match &self.backend {
            Backend::Sqlite(db) => db.handoffs(status, after, limit).await?,
            Backend::Postgres(pool) => postgres::handoffs(pool, status, after, limit).await?,
        };
        found.into_iter().map(HandoffRecord::try_from).collect()
    }

    /// How many handoffs there are in each status.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn handoff_counts(&self) -> Result<Vec<(HandoffStatus, i64)>, StoreError> {
        let found = match &self.backend {
            Backend::Sqlite(db) => db.handoff_counts().await?,
            Backend::Postgres(pool) => postgres::handoff_counts(pool).await?,
        };
        found
            .into_iter()
            .map(|(status, n)| Ok((rows::stored("status", &status)?, n)))
            .collect()
    }

    /// Records the body of a handoff's first attempt, sent unchanged on
    /// every retry (a body already recorded stays).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn set_handoff_payload(&self, id: &str, payload: &str) -> Result<(), StoreError> {
        self.write_handoff(HandoffValues::Payload { id, payload })
            .await
            .map(|_| ())
    }

    /// Marks a handoff delivered, with the ticket system's reference, if
    /// the caller still holds it at `attempt`. Returns whether it did.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn handoff_delivered(
        &self,
        id: &str,
        attempt: i64,
        ticket_id: Option<&str>,
        ticket_url: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write_handoff(HandoffValues::Delivered {
            id,
            attempt,
            ticket_id,
            ticket_url,
            now,
        })
        .await
    }

    /// Schedules a handoff's next attempt, if the caller still holds it at
    /// `attempt`. Returns whether it did.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn handoff_retry(
        &self,
        id: &str,
        attempt: i64,
        next: i64,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write_handoff(HandoffValues::Retry {
            id,
            attempt,
            next,
            error,
            now,
        })
        .await
    }

    /// Dead-letters a handoff, if the caller still holds it at `attempt`.
    /// Returns whether it did.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn handoff_dead(
        &self,
        id: &str,
        attempt: i64,
        error: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.write_handoff(HandoffValues::Dead {
            id,
            attempt,
            error,
            now,
        })
        .await
    }

    /// Puts a dead handoff back in the outbox, due now, with its schedule
    /// started over. Returns whether it was dead.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn requeue_handoff(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.requeue_handoff(id, now).await,
            Backend::Postgres(pool) => postgres::requeue_handoff(pool, id, now).await,
        }
    }

    async fn write_handoff(&self, values: HandoffValues<'_>) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.write_handoff(&values).await,
            Backend::Postgres(pool) => postgres::write_handoff(pool, &values).await,
        }
    }
}

/// Where a listing goes on: the time (milliseconds) and id of the last item
/// of the page before, shown as `TIME.ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// The last item's time (its `updated_at` or `created_at`).
    pub at: i64,
    /// The last item's id.
    pub id: String,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at, self.id)
    }
}

impl std::str::FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (at, id) = s
            .split_once('.')
            .filter(|(_, id)| !id.is_empty())
            .ok_or_else(|| format!("`{s}` is not a cursor from a `next` of this listing"))?;
        let at = at
            .parse()
            .map_err(|_| format!("`{s}` is not a cursor from a `next` of this listing"))?;
        Ok(Cursor {
            at,
            id: id.to_owned(),
        })
    }
}

/// A handoff taken from the outbox.
#[derive(Debug)]
pub enum Claimed {
    /// Ready to deliver.
    Handoff(HandoffRecord),
    /// Its row holds values madoguchi never wrote: it cannot be delivered,
    /// and is held (its attempt counted) like any other.
    Unreadable {
        /// Its id.
        id: String,
        /// The attempt it was claimed for.
        attempts: i64,
        /// What could not be read.
        error: StoreError,
    },
}

impl From<rows::HandoffRow> for Claimed {
    fn from(row: rows::HandoffRow) -> Self {
        let (id, attempts) = (row.id.clone(), row.attempts);
        match HandoffRecord::try_from(row) {
            Ok(handoff) => Claimed::Handoff(handoff),
            Err(error) => Claimed::Unreadable {
                id,
                attempts,
                error,
            },
        }
    }
}

/// One update of a handoff, with its statement.
pub(crate) enum HandoffValues<'a> {
    Payload {
        id: &'a str,
        payload: &'a str,
    },
    Delivered {
        id: &'a str,
        attempt: i64,
        ticket_id: Option<&'a str>,
        ticket_url: Option<&'a str>,
        now: i64,
    },
    Retry {
        id: &'a str,
        attempt: i64,
        next: i64,
        error: &'a str,
        now: i64,
    },
    Dead {
        id: &'a str,
        attempt: i64,
        error: &'a str,
        now: i64,
    },
}

impl HandoffValues<'_> {
    fn statement(&self) -> &'static str {
        match self {
            HandoffValues::Payload { .. } => sql::SET_HANDOFF_PAYLOAD,
            HandoffValues::Delivered { .. } => sql::HANDOFF_DELIVERED,
            HandoffValues::Retry { .. } => sql::HANDOFF_RETRY,
            HandoffValues::Dead { .. } => sql::HANDOFF_DEAD,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_that_cannot_serve_now_is_unavailable_not_failed() {
        assert!(matches!(
            StoreError::from(sqlx::Error::PoolTimedOut),
            StoreError::Busy(_)
        ));
        let full = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
            None,
        );
        assert!(matches!(StoreError::from(full), StoreError::Unavailable(_)));
        let constraint = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT),
            None,
        );
        assert!(matches!(
            StoreError::from(constraint),
            StoreError::Sqlite(_)
        ));
    }
}
