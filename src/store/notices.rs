//! Live events across replicas on one PostgreSQL: a replica that stores a
//! conversation's event sends a notice (`NOTIFY`) naming the conversation
//! and the event; every other replica reads the event from the store and
//! tells its own listeners. SQLite has one process: nothing to tell.

use futures_util::Stream;
use sqlx::postgres::PgListener;

use super::{Backend, Store, StoreError};

/// The notice channel.
const CHANNEL: &str = "madoguchi_events";

/// A live event another replica stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The conversation.
    pub conversation: String,
    /// The event's id in it.
    pub event: i64,
}

impl Store {
    /// Tells the other replicas that the conversation's events now reach
    /// `event`. A notice that fails is logged: listeners elsewhere then
    /// get the event with the conversation's next one (their streams fill
    /// gaps from the store).
    pub(super) async fn tell_replicas(&self, conversation: &str, event: Option<i64>) {
        let (Backend::Postgres(pool), Some(event)) = (&self.backend, event) else {
            return;
        };
        let payload = format!("{}:{conversation}:{event}", self.replica);
        if let Err(err) = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %err, conversation, "other replicas were not told of a live event");
        }
    }

    /// The notices of live events the other replicas store, for as long
    /// as the stream is read; `None` on SQLite. A dropped connection is
    /// taken up again by the listener; notices sent meanwhile are lost,
    /// and the gap is filled with the conversation's next event.
    ///
    /// # Errors
    /// When PostgreSQL cannot be listened to.
    pub async fn notices(&self) -> Result<Option<impl Stream<Item = Notice> + use<>>, StoreError> {
        let Backend::Postgres(pool) = &self.backend else {
            return Ok(None);
        };
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let own = self.replica.clone();
        let stream = futures_util::stream::unfold(listener, move |mut listener| {
            let own = own.clone();
            async move {
                loop {
                    match listener.recv().await {
                        Ok(notification) => {
                            if let Some(notice) = parse(notification.payload(), &own) {
                                return Some((notice, listener));
                            }
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "listening for other replicas' events");
                            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        }
                    }
                }
            }
        });
        Ok(Some(stream))
    }
}

/// A notice of another replica's, or `None` (our own, or not one).
fn parse(payload: &str, own: &str) -> Option<Notice> {
    let mut parts = payload.splitn(3, ':');
    let replica = parts.next()?;
    let conversation = parts.next()?;
    let event = parts.next()?.parse().ok()?;
    (replica != own).then(|| Notice {
        conversation: conversation.to_owned(),
        event,
    })
}
