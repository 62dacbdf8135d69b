//! The store: every SQL statement of madoguchi, on SQLite (a file, WAL) or
//! PostgreSQL, chosen by the database URL.
//!
//! The two backends share one schema (a migration folder each, since their
//! types differ a little) and one set of statements: SQL is written once,
//! with `$1`-style parameters, which both sqlx drivers bind by number. A
//! conversation's new messages and its new state are written in one
//! transaction, guarded by a version number so that two messages racing on
//! one conversation cannot lose each other's state.

mod rows;

pub use rows::{
    Author, ConversationRecord, ConversationSummary, EarlierConversation, Identity, MessageRecord,
    NewConversation, NewMessage,
};

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::engine::{ConversationState, Status};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one madoguchi can use.
    #[error("database URL must start with sqlite: or postgres://")]
    UnknownDatabase,
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored conversation state is unreadable: {0}")]
    Corrupt(String),
    /// Another message changed the conversation meanwhile: decide again.
    #[error("the conversation changed meanwhile")]
    Conflict,
}

#[derive(Debug, Clone)]
enum Backend {
    /// SQLite allows one writer at a time; a second connection that tries
    /// to write waits in SQLite's busy handler, which sleeps for
    /// milliseconds. So writes go through a pool of one connection, where
    /// they queue without sleeping, and reads through a pool of several.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the store's pool for reading or for
/// writing: the statements are the same for both backends.
macro_rules! on_pool {
    ($store:expr, read, $pool:ident => $body:expr) => {
        match &$store.backend {
            Backend::Sqlite { read: $pool, .. } => $body,
            Backend::Postgres($pool) => $body,
        }
    };
    ($store:expr, write, $pool:ident => $body:expr) => {
        match &$store.backend {
            Backend::Sqlite { write: $pool, .. } => $body,
            Backend::Postgres($pool) => $body,
        }
    };
}

/// `INSERT INTO messages` of `rows` rows in one statement: its own
/// numbered placeholders only, no outside text.
fn insert_messages_sql(rows: usize) -> String {
    const COLUMNS: usize = 8;
    let mut sql = String::from(
        "INSERT INTO messages (conversation_id, seq, author, agent, text, intent, decision, created_at) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (1..=COLUMNS)
            .map(|c| format!("${}", row * COLUMNS + c))
            .collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    sql
}

/// The durability of SQLite writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL` with WAL: durable across a process crash.
    Normal,
    /// `synchronous=FULL`: durable across a power loss too.
    Full,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

const POOL_TIMEOUT: Duration = Duration::from_secs(5);

impl Store {
    /// Connects to `url` (`sqlite://FILE`, created if missing, or
    /// `postgres://...`) and brings its schema up to date.
    ///
    /// # Errors
    /// [`StoreError`] when the database cannot be reached or migrated.
    pub async fn connect(url: &str, durability: Durability) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            let synchronous = match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            };
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .foreign_keys(true)
                .busy_timeout(POOL_TIMEOUT);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(POOL_TIMEOUT)
                .connect_with(options.clone())
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&write).await?;
            let read = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(POOL_TIMEOUT)
                .connect_with(options.read_only(true))
                .await?;
            Backend::Sqlite { read, write }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(POOL_TIMEOUT)
                .connect(url)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Backend::Postgres(pool)
        } else {
            return Err(StoreError::UnknownDatabase);
        };
        Ok(Store { backend })
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Whether the database answers.
    ///
    /// # Errors
    /// When it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, read, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
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
        let state =
            serde_json::to_string(&new.state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        on_pool!(self, write, pool => {
            let mut tx = pool.begin().await?;
            let existing: Option<String> = match &new.external_id {
                Some(external) => sqlx::query_scalar("SELECT id FROM customers WHERE external_id = $1")
                    .bind(external)
                    .fetch_optional(&mut *tx)
                    .await?,
                None => None,
            };
            let customer_id = if let Some(id) = existing {
                sqlx::query("UPDATE customers SET email = COALESCE($1, email), name = COALESCE($2, name) WHERE id = $3")
                    .bind(&new.email)
                    .bind(&new.name)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                id
            } else {
                sqlx::query("INSERT INTO customers (id, external_id, email, name, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&new.customer_id)
                    .bind(&new.external_id)
                    .bind(&new.email)
                    .bind(&new.name)
                    .bind(new.at)
                    .execute(&mut *tx)
                    .await?;
                new.customer_id.clone()
            };
            sqlx::query(
                "INSERT INTO conversations (id, token_hash, customer_id, channel, identity, status, state, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)",
            )
            .bind(&new.id)
            .bind(&new.token_hash)
            .bind(&customer_id)
            .bind(new.channel.as_str())
            .bind(new.identity.as_str())
            .bind(new.state.status.as_str())
            .bind(&state)
            .bind(new.at)
            .bind(new.at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// A conversation with its state, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails or the state is unreadable.
    pub async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>, StoreError> {
        const SQL: &str = "SELECT c.id, c.token_hash, c.customer_id, c.channel, c.identity, c.status, c.state, c.version, c.summary, c.created_at, c.updated_at, \
                           u.external_id, u.email, u.name \
                           FROM conversations c JOIN customers u ON u.id = c.customer_id WHERE c.id = $1";
        let row: Option<rows::ConversationRow> = on_pool!(self, read, pool => {
            sqlx::query_as(SQL).bind(id).fetch_optional(pool).await?
        });
        row.map(rows::ConversationRow::into_record).transpose()
    }

    /// Appends `messages` and saves `state`, in one transaction, if the
    /// conversation is still at `version`. Returns the transcript's last
    /// place (`seq`) afterwards.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another message changed it meanwhile.
    pub async fn record(
        &self,
        id: &str,
        version: i64,
        messages: &[NewMessage],
        state: &ConversationState,
        summary: Option<&str>,
        at: i64,
    ) -> Result<i64, StoreError> {
        let state_json =
            serde_json::to_string(state).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        on_pool!(self, write, pool => {
            let mut tx = pool.begin().await?;
            // One statement checks the version, saves the state and counts
            // the messages; the count numbers the new ones.
            let count: Option<i64> = sqlx::query_scalar(
                "UPDATE conversations SET state = $1, status = $2, version = version + 1, updated_at = $3, \
                 summary = COALESCE($4, summary), message_count = message_count + $5 \
                 WHERE id = $6 AND version = $7 RETURNING message_count",
            )
            .bind(&state_json)
            .bind(state.status.as_str())
            .bind(at)
            .bind(summary)
            .bind(messages.len() as i64)
            .bind(id)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(last) = count else {
                tx.rollback().await?;
                return Err(StoreError::Conflict);
            };
            if !messages.is_empty() {
                let first = last - messages.len() as i64 + 1;
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(insert_messages_sql(messages.len())));
                for (seq, message) in (first..).zip(messages) {
                    insert = insert
                        .bind(id)
                        .bind(seq)
                        .bind(message.author.as_str())
                        .bind(&message.agent)
                        .bind(&message.text)
                        .bind(&message.intent)
                        .bind(&message.decision)
                        .bind(at);
                }
                insert.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(last)
        })
    }

    /// The messages of a conversation, in order.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn transcript(&self, id: &str) -> Result<Vec<MessageRecord>, StoreError> {
        const SQL: &str = "SELECT seq, author, agent, text, intent, decision, created_at FROM messages WHERE conversation_id = $1 ORDER BY seq";
        let found: Vec<rows::MessageRow> = on_pool!(self, read, pool => {
            sqlx::query_as(SQL).bind(id).fetch_all(pool).await?
        });
        Ok(found.into_iter().map(MessageRecord::from).collect())
    }

    /// Conversations, newest activity first, optionally in one state.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn list(
        &self,
        status: Option<Status>,
        limit: i64,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        const SQL: &str = "SELECT c.id, c.channel, c.identity, c.status, c.summary, c.created_at, c.updated_at, u.email, u.name \
                           FROM conversations c JOIN customers u ON u.id = c.customer_id \
                           WHERE ($1 IS NULL OR c.status = $1) ORDER BY c.updated_at DESC LIMIT $2";
        // `$1` is compared as text on both backends.
        let status = status.map(Status::as_str);
        let found: Vec<rows::SummaryRow> = on_pool!(self, read, pool => {
            sqlx::query_as(SQL).bind(status).bind(limit).fetch_all(pool).await?
        });
        Ok(found.into_iter().map(ConversationSummary::from).collect())
    }

    /// The customer's other conversations, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn earlier_conversations(
        &self,
        customer_id: &str,
        except: &str,
    ) -> Result<Vec<EarlierConversation>, StoreError> {
        const SQL: &str = "SELECT id, identity, summary, created_at FROM conversations \
                           WHERE customer_id = $1 AND id <> $2 ORDER BY created_at DESC LIMIT 20";
        let found: Vec<rows::EarlierRow> = on_pool!(self, read, pool => {
            sqlx::query_as(SQL).bind(customer_id).bind(except).fetch_all(pool).await?
        });
        Ok(found.into_iter().map(EarlierConversation::from).collect())
    }

    /// Records feedback on a conversation.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn add_feedback(
        &self,
        id: &str,
        helpful: Option<bool>,
        csat: Option<i32>,
        comment: Option<&str>,
        at: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, write, pool => {
            sqlx::query("INSERT INTO feedback (conversation_id, helpful, csat, comment, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(helpful)
                .bind(csat)
                .bind(comment)
                .bind(at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes a customer and everything about them (conversations,
    /// messages, feedback). Returns whether the customer existed.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn delete_customer(&self, customer_id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, write, pool => {
            sqlx::query("DELETE FROM customers WHERE id = $1").bind(customer_id).execute(pool).await?.rows_affected()
        });
        Ok(deleted > 0)
    }

    /// Purges conversations not updated since `before` (milliseconds), and
    /// customers left with none. Returns how many conversations went.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn purge_before(&self, before: i64) -> Result<u64, StoreError> {
        let purged = on_pool!(self, write, pool => {
            let mut tx = pool.begin().await?;
            let purged = sqlx::query("DELETE FROM conversations WHERE updated_at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM customers WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.customer_id = customers.id)")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            purged
        });
        Ok(purged)
    }
}
