//! Live listeners of conversations: what they are told, and the hub that
//! tells them on this replica.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

use crate::engine::Status;
use crate::store::{Author, NewEvent};

/// Something a live listener of a conversation is told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A message from a person of the support team.
    Message {
        /// Its place in the transcript.
        seq: i64,
        /// Who wrote it.
        author: Author,
        /// The agent's name.
        agent: Option<String>,
        /// The text.
        text: String,
        /// When (RFC 3339).
        at: String,
    },
    /// The conversation's state changed.
    State {
        /// The new state.
        state: Status,
    },
    /// The ticket system took the handoff and gave a reference.
    Ticket {
        /// The ticket's id.
        ticket_id: String,
        /// A link to it.
        url: Option<String>,
        /// What the customer is told.
        text: String,
    },
}

impl Event {
    /// Its kind, as the event stream names it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Message { .. } => "message",
            Event::State { .. } => "state",
            Event::Ticket { .. } => "ticket",
        }
    }
}

/// An event with its place among the conversation's events: the event
/// stream's `id`, from which a client that lost its connection resumes
/// (`Last-Event-ID`).
#[derive(Debug, Clone)]
pub struct Numbered {
    /// Its id in the conversation.
    pub id: i64,
    /// The event.
    pub event: Event,
}

impl Numbered {
    /// Read back from the store.
    ///
    /// # Errors
    /// When the stored body is not an event.
    pub fn from_stored(stored: &crate::store::StoredEvent) -> Result<Self, serde_json::Error> {
        Ok(Numbered {
            id: stored.id,
            event: serde_json::from_str(&stored.body)?,
        })
    }

    /// As the store keeps it.
    #[must_use]
    pub fn to_new(&self) -> NewEvent {
        NewEvent {
            id: self.id,
            kind: self.event.kind(),
            body: serde_json::to_string(&self.event).unwrap_or_default(),
        }
    }
}

/// Live listeners per conversation. A conversation nobody listens to has
/// no channel; a channel is dropped when its last listener goes. At most
/// `max_listeners` listen to one conversation: a new one ends the oldest,
/// so that a widget reconnecting after a dropped connection is never
/// locked out by its own stale streams.
#[derive(Debug, Clone)]
pub struct Events {
    channels: Arc<Mutex<HashMap<String, Channel>>>,
    max_listeners: usize,
}

#[derive(Debug)]
struct Channel {
    sender: broadcast::Sender<Numbered>,
    /// One per listener, oldest first: sent (or dropped) to end it.
    listeners: VecDeque<oneshot::Sender<()>>,
}

/// A listener of one conversation.
#[derive(Debug)]
pub struct Listener {
    /// What happens in the conversation.
    pub events: broadcast::Receiver<Numbered>,
    /// Completes when a newer listener took this one's place.
    pub replaced: oneshot::Receiver<()>,
}

/// Events a slow listener may fall behind by before it misses some.
const EVENT_BACKLOG: usize = 64;

impl Default for Events {
    fn default() -> Self {
        Events::new(usize::MAX)
    }
}

impl Events {
    /// A hub where at most `max_listeners` listen to one conversation.
    #[must_use]
    pub fn new(max_listeners: usize) -> Self {
        Events {
            channels: Arc::default(),
            max_listeners: max_listeners.max(1),
        }
    }

    /// Listens to a conversation.
    #[must_use]
    pub fn subscribe(&self, conversation: &str) -> Listener {
        let mut channels = self.lock();
        // Conversations nobody listens to any more go, so the map holds
        // only live streams.
        channels.retain(|_, channel| channel.sender.receiver_count() > 0);
        let channel = channels
            .entry(conversation.to_owned())
            .or_insert_with(|| Channel {
                sender: broadcast::channel(EVENT_BACKLOG).0,
                listeners: VecDeque::new(),
            });
        channel.listeners.retain(|l| !l.is_closed());
        while channel.listeners.len() >= self.max_listeners {
            if let Some(oldest) = channel.listeners.pop_front() {
                let _ = oldest.send(());
            }
        }
        let (end, replaced) = oneshot::channel();
        channel.listeners.push_back(end);
        Listener {
            events: channel.sender.subscribe(),
            replaced,
        }
    }

    /// Whether anyone listens to the conversation on this replica.
    #[must_use]
    pub fn has_listeners(&self, conversation: &str) -> bool {
        self.lock()
            .get(conversation)
            .is_some_and(|c| c.sender.receiver_count() > 0)
    }

    /// How many live streams are open (on this replica).
    #[must_use]
    pub fn streams(&self) -> usize {
        self.lock()
            .values()
            .map(|channel| channel.sender.receiver_count())
            .sum()
    }

    /// Tells the conversation's listeners, if any.
    pub fn publish(&self, conversation: &str, event: Numbered) {
        let mut channels = self.lock();
        if let Some(channel) = channels.get(conversation)
            && channel.sender.send(event).is_err()
        {
            // Nobody listens any more.
            channels.remove(conversation);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        // A panic while holding the lock cannot leave the map inconsistent:
        // every change is one insert or remove.
        self.channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Tells this replica's listeners of events the other replicas store, until
/// `stopping` turns true: each notice's event is read from the store (the
/// notice carries only ids) and published here, where the streams put it
/// in order with the rest.
pub async fn relay_other_replicas(
    store: crate::store::Store,
    events: Events,
    mut stopping: tokio::sync::watch::Receiver<bool>,
    listening: tokio::sync::oneshot::Sender<()>,
) {
    use futures_util::StreamExt as _;
    let mut listening = Some(listening);
    let mut wait = std::time::Duration::from_secs(1);
    let notices = loop {
        match store.notices().await {
            Ok(Some(notices)) => break notices,
            Ok(None) => return,
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for other replicas' events yet: trying again");
                // The service goes on starting; other replicas' events reach
                // its listeners with the next local one meanwhile.
                if let Some(listening) = listening.take() {
                    let _ = listening.send(());
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stopping.changed() => return,
                }
                wait = (wait * 2).min(std::time::Duration::from_mins(1));
            }
        }
    };
    if let Some(listening) = listening.take() {
        let _ = listening.send(());
    }
    let mut notices = std::pin::pin!(notices);
    loop {
        tokio::select! {
            Some(notice) = notices.next() => relay(&store, &events, &notice).await,
            _ = stopping.changed() => return,
        }
    }
}

async fn relay(store: &crate::store::Store, events: &Events, notice: &crate::store::Notice) {
    if !events.has_listeners(&notice.conversation) {
        return;
    }
    match store
        .events_after(&notice.conversation, notice.event - 1, 1)
        .await
    {
        Ok(stored) => {
            for event in &stored {
                match Numbered::from_stored(event) {
                    Ok(numbered) => events.publish(&notice.conversation, numbered),
                    Err(err) => {
                        tracing::warn!(error = %err, "an event of another replica is unreadable");
                    }
                }
            }
        }
        Err(err) => tracing::warn!(error = %err, "reading another replica's event"),
    }
}
