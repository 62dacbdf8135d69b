//! The SQLite backend, with rusqlite: one file in WAL mode, one writing
//! connection and a few reading ones.
//!
//! Statements run on the calling task's thread, under an async lock. A
//! statement here takes microseconds (WAL with `synchronous=NORMAL` does
//! not wait for the disk at each commit); handing each to a thread of its
//! own, as a pool of background connections does, costs more in thread
//! switches than the statement itself, and measured that way the service
//! spent most of its time in the scheduler. SQLite allows one writer at a
//! time, so writes queue on the one writing connection instead of sleeping
//! in SQLite's busy handler.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::{Mutex, MutexGuard};

use super::mail::{Kind, Value};
use super::rows::{
    ConversationRow, CustomerMessageRow, EarlierRow, HandoffKind, HandoffRow, MessageRow,
    StoredEvent, SummaryRow,
};
use super::{
    Change, Cursor, Durability, Feedback, HandoffValues, NewConversation, Prepare, StoreError, sql,
};

/// The migrations, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_conversations.sql"),
    include_str!("../../migrations/sqlite/0002_handoffs.sql"),
    include_str!("../../migrations/sqlite/0003_probes.sql"),
    include_str!("../../migrations/sqlite/0004_handoff_updates.sql"),
    include_str!("../../migrations/sqlite/0005_events.sql"),
    include_str!("../../migrations/sqlite/0006_mail.sql"),
];

/// Reading connections: enough for the runtime's threads to read at once.
const READERS: usize = 4;

/// Each reader's page cache, in KiB (as SQLite's negative `cache_size`).
const READER_CACHE_KIB: i64 = -512;

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const WRITER_BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// The longest a serialized write waits for the writing connection.
const SERIALIZED_WAIT: Duration = Duration::from_secs(5);

/// The database file's connections.
#[derive(Debug)]
pub(super) struct Sqlite {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
}

impl Sqlite {
    /// Opens (creating) the file at `path` and applies the migrations.
    pub(super) fn open(path: &Path, durability: Durability) -> Result<Self, StoreError> {
        let mut writer = Connection::open(path)?;
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", synchronous)?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        // What is deleted is overwritten with zeros, not left readable in
        // the file's free pages (a deletion on request must delete).
        writer.pragma_update(None, "secure_delete", "ON")?;
        // This connection is the only writer: it waits for the lock only if
        // an outside tool holds it, and then not long, since it waits on a
        // thread of the runtime.
        writer.busy_timeout(WRITER_BUSY_TIMEOUT)?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                reader.busy_timeout(BUSY_TIMEOUT)?;
                // The operating system caches the file for all of them; a
                // reader's own page cache only needs the hot pages.
                reader.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Sqlite {
            writer: Mutex::new(writer),
            readers,
        })
    }

    async fn reader(&self) -> MutexGuard<'_, Connection> {
        for reader in &self.readers {
            if let Ok(guard) = reader.try_lock() {
                return guard;
            }
        }
        self.readers[0].lock().await
    }

    /// Copies the WAL back into the database file and empties it, so that
    /// a stopped service leaves one complete file.
    pub(super) async fn close(&self) -> Result<(), StoreError> {
        let writer = self.writer.lock().await;
        writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub(super) async fn probe(&self, now: i64) -> Result<(), StoreError> {
        let writer = self.writer.lock().await;
        writer.prepare_cached(sql::PROBE)?.execute([now])?;
        Ok(())
    }

    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        let reader = self.reader().await;
        reader.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    pub(super) async fn create_conversation(
        &self,
        new: &NewConversation,
        state: &str,
    ) -> Result<(), StoreError> {
        let mut writer = self.writer.lock().await;
        let tx = writer.transaction()?;
        let customer_id: String = tx.prepare_cached(sql::UPSERT_CUSTOMER)?.query_row(
            params![
                new.customer_id,
                new.external_id,
                new.email,
                new.name,
                new.at
            ],
            |r| r.get(0),
        )?;
        tx.prepare_cached(sql::INSERT_CONVERSATION)?
            .execute(params![
                new.id,
                new.token_hash,
                customer_id,
                new.channel.as_str(),
                new.identity.as_str(),
                new.state.status.as_str(),
                state,
                new.at,
                new.at
            ])?;
        tx.commit()?;
        Ok(())
    }

    pub(super) async fn conversation(
        &self,
        id: &str,
    ) -> Result<Option<ConversationRow>, StoreError> {
        let reader = self.reader().await;
        let row = reader
            .prepare_cached(sql::CONVERSATION)?
            .query_row([id], conversation_row)
            .optional()?;
        Ok(row)
    }

    pub(super) async fn record(&self, change: &Change<'_>) -> Result<i64, StoreError> {
        let mut writer = self.writer.lock().await;
        let tx = writer.transaction()?;
        let last = write(&tx, change)?;
        tx.commit()?;
        Ok(last)
    }

    /// Reads the conversation and writes what `prepare` makes of it, with
    /// the writing connection held throughout: no other write to any
    /// conversation comes between (one process writes a SQLite file).
    /// `None` when the conversation does not exist or `prepare` writes
    /// nothing.
    pub(super) async fn record_serialized(
        &self,
        id: &str,
        at: i64,
        prepare: Prepare<'_>,
    ) -> Result<Option<i64>, StoreError> {
        // Waiting longer means the writers are more than the database
        // serves: the client may send it again.
        let mut writer = tokio::time::timeout(SERIALIZED_WAIT, self.writer.lock())
            .await
            .map_err(|_| StoreError::Conflict)?;
        let tx = writer.transaction()?;
        let row = tx
            .prepare_cached(sql::CONVERSATION)?
            .query_row([id], conversation_row)
            .optional()?;
        let Some(row) = row else { return Ok(None) };
        let Some(prepared) = prepare(row.into_record()?)? else {
            return Ok(None);
        };
        let last = write(&tx, &prepared.change(id, at))?;
        tx.commit()?;
        Ok(Some(last))
    }

    pub(super) async fn events_after(
        &self,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(sql::EVENTS_AFTER)?;
        let rows = statement
            .query_map(params![id, after, limit], |r| {
                Ok(StoredEvent {
                    id: r.get("id")?,
                    kind: r.get("kind")?,
                    body: r.get("body")?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub(super) async fn transcript(
        &self,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(sql::TRANSCRIPT)?;
        let rows = statement
            .query_map(params![id, after, limit], |r| {
                Ok(MessageRow {
                    seq: r.get("seq")?,
                    author: r.get("author")?,
                    agent: r.get("agent")?,
                    text: r.get("text")?,
                    intent: r.get("intent")?,
                    decision: r.get("decision")?,
                    created_at: r.get("created_at")?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub(super) async fn customer_messages(
        &self,
        from: Option<i64>,
        to: Option<i64>,
        limit: i64,
    ) -> Result<Vec<CustomerMessageRow>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(sql::CUSTOMER_MESSAGES)?;
        let rows = statement
            .query_map(params![from, to, limit], |r| {
                Ok(CustomerMessageRow {
                    conversation_id: r.get("conversation_id")?,
                    seq: r.get("seq")?,
                    text: r.get("text")?,
                    intent: r.get("intent")?,
                    decision: r.get("decision")?,
                    created_at: r.get("created_at")?,
                    channel: r.get("channel")?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub(super) async fn list(
        &self,
        status: Option<&str>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<SummaryRow>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(sql::LIST)?;
        let (at, id) = (after.map(|c| c.at), after.map(|c| c.id.as_str()));
        let rows = statement
            .query_map(params![status, at, id, limit], |r| {
                Ok(SummaryRow {
                    id: r.get("id")?,
                    channel: r.get("channel")?,
                    identity: r.get("identity")?,
                    status: r.get("status")?,
                    summary: r.get("summary")?,
                    created_at: r.get("created_at")?,
                    updated_at: r.get("updated_at")?,
                    email: r.get("email")?,
                    name: r.get("name")?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub(super) async fn earlier(
        &self,
        customer_id: &str,
        except: &str,
    ) -> Result<Vec<EarlierRow>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(sql::EARLIER)?;
        let rows = statement
            .query_map(params![customer_id, except], |r| {
                Ok(EarlierRow {
                    id: r.get("id")?,
                    identity: r.get("identity")?,
                    summary: r.get("summary")?,
                    created_at: r.get("created_at")?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    pub(super) async fn add_feedback(&self, feedback: &Feedback<'_>) -> Result<(), StoreError> {
        let writer = self.writer.lock().await;
        writer
            .prepare_cached(sql::INSERT_FEEDBACK)?
            .execute(params![
                feedback.conversation,
                feedback.helpful,
                feedback.csat,
                feedback.comment,
                feedback.at
            ])?;
        Ok(())
    }

    pub(super) async fn delete_customer(&self, id: &str) -> Result<u64, StoreError> {
        let writer = self.writer.lock().await;
        let deleted = writer.prepare_cached(sql::DELETE_CUSTOMER)?.execute([id])?;
        if deleted > 0 {
            forget_wal(&writer);
        }
        Ok(deleted as u64)
    }

    pub(super) async fn purge_before(&self, before: i64) -> Result<u64, StoreError> {
        let mut writer = self.writer.lock().await;
        let tx = writer.transaction()?;
        let purged = tx
            .prepare_cached(sql::PURGE_CONVERSATIONS)?
            .execute([before])?;
        tx.prepare_cached(sql::PURGE_CUSTOMERS)?.execute([])?;
        tx.commit()?;
        if purged > 0 {
            forget_wal(&writer);
        }
        Ok(purged as u64)
    }
}

impl Sqlite {
    pub(super) async fn claim_handoff(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<HandoffRow>, StoreError> {
        let writer = self.writer.lock().await;
        let claimed = writer
            .prepare_cached(&sql::claim_handoff(false))?
            .query_row(params![lease_until, now], handoff_row)
            .optional()?;
        Ok(claimed)
    }

    pub(super) async fn updated_up_to(
        &self,
        parent: &str,
        update: &str,
        seq: i64,
    ) -> Result<Option<i64>, StoreError> {
        let reader = self.reader().await;
        let seq: Option<i64> = reader
            .prepare_cached(sql::UPDATED_UP_TO)?
            .query_row(params![parent, update, seq], |r| r.get(0))?;
        Ok(seq)
    }

    pub(super) async fn handoff(&self, id: &str) -> Result<Option<HandoffRow>, StoreError> {
        let reader = self.reader().await;
        let found = reader
            .prepare_cached(&sql::handoff())?
            .query_row([id], handoff_row)
            .optional()?;
        Ok(found)
    }

    pub(super) async fn handoffs(
        &self,
        status: Option<&str>,
        after: Option<&Cursor>,
        limit: i64,
    ) -> Result<Vec<HandoffRow>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(&sql::list_handoffs())?;
        let (at, id) = (after.map(|c| c.at), after.map(|c| c.id.as_str()));
        let found = statement
            .query_map(params![status, at, id, limit], handoff_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(found)
    }

    pub(super) async fn handoff_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let reader = self.reader().await;
        let mut statement = reader.prepare_cached(sql::COUNT_HANDOFFS)?;
        let found = statement
            .query_map([], |r| Ok((r.get("status")?, r.get("n")?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(found)
    }

    pub(super) async fn requeue_handoff(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let writer = self.writer.lock().await;
        let changed = writer
            .prepare_cached(sql::HANDOFF_REQUEUE)?
            .execute(params![now, id])?;
        Ok(changed > 0)
    }

    pub(super) async fn write_handoff(
        &self,
        values: &HandoffValues<'_>,
    ) -> Result<bool, StoreError> {
        let writer = self.writer.lock().await;
        let mut statement = writer.prepare_cached(values.statement())?;
        let changed = match *values {
            HandoffValues::Payload { id, payload } => statement.execute(params![payload, id])?,
            HandoffValues::Delivered {
                id,
                attempt,
                ticket_id,
                ticket_url,
                now,
            } => statement.execute(params![ticket_id, ticket_url, now, id, attempt])?,
            HandoffValues::Retry {
                id,
                attempt,
                next,
                error,
                now,
            } => statement.execute(params![next, error, now, id, attempt])?,
            HandoffValues::Dead {
                id,
                attempt,
                error,
                now,
            } => statement.execute(params![error, now, id, attempt])?,
        };
        Ok(changed > 0)
    }
}

/// Writes `change` in `tx`: the state (if the version still matches), the
/// messages and the handoff. Returns the transcript's last place.
fn write(tx: &rusqlite::Transaction<'_>, change: &Change<'_>) -> Result<i64, StoreError> {
    let count: Option<i64> = tx
        .prepare_cached(sql::UPDATE_CONVERSATION)?
        .query_row(
            params![
                change.state,
                change.status,
                change.at,
                change.summary,
                change.count,
                change.id,
                change.version
            ],
            |r| r.get(0),
        )
        .optional()?;
    // Dropping the transaction rolls it back.
    let Some(last) = count else {
        return Err(StoreError::Conflict);
    };
    if !change.messages.is_empty() {
        let statement = sql::insert_messages(change.messages.len());
        let mut insert = tx.prepare_cached(&statement)?;
        let mut values: Vec<&dyn rusqlite::ToSql> =
            Vec::with_capacity(change.messages.len() * sql::MESSAGE_COLUMNS);
        let numbered: Vec<(i64, &str, &super::NewMessage)> = change
            .numbered(last)
            .map(|(seq, message)| (seq, message.author.as_str(), message))
            .collect();
        for (seq, author, message) in &numbered {
            values.extend([
                &change.id as &dyn rusqlite::ToSql,
                seq,
                author,
                &message.agent,
                &message.text,
                &message.intent,
                &message.decision,
                &change.at,
            ]);
        }
        insert.execute(values.as_slice())?;
    }
    if let Some(last_event) = change.events.last() {
        let mut insert = tx.prepare_cached(sql::INSERT_EVENT)?;
        for event in change.events {
            insert.execute(params![
                change.id, event.id, event.kind, event.body, change.at
            ])?;
        }
        tx.prepare_cached(sql::SET_EVENT_COUNT)?
            .execute(params![last_event.id, change.id])?;
    }
    if let Some(handoff) = change.handoff {
        let kind = handoff.kind.as_str();
        let released = tx.prepare_cached(sql::RELEASE_HANDOFF)?.execute(params![
            last,
            handoff.reason.as_str(),
            handoff.priority.as_str(),
            handoff.intent,
            handoff.due,
            change.at,
            change.id,
            kind
        ])?;
        if released == 0 {
            let updates: Option<String> = tx
                .prepare_cached(sql::UPDATED_HANDOFF)?
                .query_row(params![change.id, kind], |r| r.get(0))
                .optional()?;
            if updates.is_some() || handoff.kind != HandoffKind::Update {
                tx.prepare_cached(sql::INSERT_HANDOFF)?.execute(params![
                    handoff.id,
                    change.id,
                    last,
                    handoff.reason.as_str(),
                    handoff.priority.as_str(),
                    handoff.intent,
                    handoff.due,
                    change.at,
                    updates
                ])?;
            }
        }
    }
    for mail in change.mails {
        let seq = match mail.direction {
            super::MailDirection::In => last - change.count + 1,
            super::MailDirection::Out => last,
        };
        tx.prepare_cached(super::mail::INSERT_MAIL)?
            .execute(rusqlite::params_from_iter(sqlite_values(
                super::mail::insert_params(mail, Some(change.id), Some(seq), change.at),
            )))?;
    }
    Ok(last)
}

fn sqlite_values(params: Vec<Value>) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value as V;
    params
        .into_iter()
        .map(|p| match p {
            Value::Text(Some(t)) => V::Text(t),
            Value::Int(Some(i)) => V::Integer(i),
            Value::Bytes(b) => V::Blob(b),
            Value::Text(None) | Value::Int(None) => V::Null,
        })
        .collect()
}

fn sqlite_row(r: &rusqlite::Row<'_>, kinds: &[Kind]) -> rusqlite::Result<Vec<Value>> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            Ok(match kind {
                Kind::Text => Value::Text(r.get(i)?),
                Kind::Int => Value::Int(r.get(i)?),
                Kind::Bytes => Value::Bytes(r.get::<_, Option<Vec<u8>>>(i)?.unwrap_or_default()),
            })
        })
        .collect()
}

impl Sqlite {
    /// Runs one statement of the mail tables on the writer.
    pub(super) async fn exec(&self, sql: &str, params: Vec<Value>) -> Result<u64, StoreError> {
        let writer = self.writer.lock().await;
        let changed = writer
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(sqlite_values(params)))?;
        Ok(changed as u64)
    }

    /// Reads rows of the mail tables; a statement that writes (`RETURNING`)
    /// goes to the writer.
    pub(super) async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let run = |c: &Connection| -> Result<Vec<Vec<Value>>, StoreError> {
            let mut statement = c.prepare_cached(sql)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(sqlite_values(params)), |r| {
                    sqlite_row(r, kinds)
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        };
        if sql.trim_start().starts_with("SELECT") {
            run(&*self.reader().await)
        } else {
            run(&*self.writer.lock().await)
        }
    }
}

/// Folds the write-ahead log into the database file and empties it: the
/// log still holds the pages as they were before a deletion until it is
/// overwritten, and a deletion must not stay readable there. A reader in
/// the middle of a read keeps the log from being emptied; then the next
/// deletion or the stop empties it. The deletion itself is done by then,
/// so a failure here is logged, not returned.
fn forget_wal(writer: &Connection) {
    match writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(0) => {}
        Ok(_) => tracing::warn!(
            "the write-ahead log could not be emptied after a deletion: a read was under way"
        ),
        Err(err) => {
            tracing::warn!(error = %err, "emptying the write-ahead log after a deletion failed");
        }
    }
}

fn conversation_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: r.get("id")?,
        token_hash: r.get("token_hash")?,
        customer_id: r.get("customer_id")?,
        channel: r.get("channel")?,
        identity: r.get("identity")?,
        state: r.get("state")?,
        version: r.get("version")?,
        message_count: r.get("message_count")?,
        event_count: r.get("event_count")?,
        summary: r.get("summary")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        external_id: r.get("external_id")?,
        email: r.get("email")?,
        name: r.get("name")?,
    })
}

fn handoff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HandoffRow> {
    Ok(HandoffRow {
        id: r.get("id")?,
        conversation_id: r.get("conversation_id")?,
        seq: r.get("seq")?,
        reason: r.get("reason")?,
        priority: r.get("priority")?,
        intent: r.get("intent")?,
        status: r.get("status")?,
        attempts: r.get("attempts")?,
        next_attempt_at: r.get("next_attempt_at")?,
        last_error: r.get("last_error")?,
        payload: r.get("payload")?,
        ticket_id: r.get("ticket_id")?,
        ticket_url: r.get("ticket_url")?,
        updates: r.get("updates")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// Applies the migrations the file does not have yet, each in a
/// transaction of its own.
fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let applied: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let applied = usize::try_from(applied).unwrap_or(0);
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {applied}, newer than this madoguchi knows ({}): upgrade madoguchi",
            MIGRATIONS.len()
        )));
    }
    for (n, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = connection.transaction()?;
        tx.execute_batch(migration)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(n + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
    }
    Ok(())
}
