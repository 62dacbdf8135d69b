//! Live listeners of conversations: what they are told, and the hub that
//! tells them on this replica.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::sync::broadcast;

use crate::engine::Status;
use crate::store::Author;

/// Something a live listener of a conversation is told.
#[derive(Debug, Clone, Serialize)]
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

/// Live listeners per conversation. A conversation nobody listens to has
/// no channel; a channel is dropped when its last listener goes.
#[derive(Debug, Default, Clone)]
pub struct Events {
    channels: Arc<Mutex<HashMap<String, broadcast::Sender<Event>>>>,
}

/// Events a slow listener may fall behind by before it misses some.
const EVENT_BACKLOG: usize = 64;

impl Events {
    /// Listens to a conversation.
    #[must_use]
    pub fn subscribe(&self, conversation: &str) -> broadcast::Receiver<Event> {
        let mut channels = self.lock();
        // Conversations nobody listens to any more go, so the map holds
        // only live streams.
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .entry(conversation.to_owned())
            .or_insert_with(|| broadcast::channel(EVENT_BACKLOG).0)
            .subscribe()
    }

    /// Tells the conversation's listeners, if any.
    pub fn publish(&self, conversation: &str, event: Event) {
        let mut channels = self.lock();
        if let Some(sender) = channels.get(conversation)
            && sender.send(event).is_err()
        {
            // Nobody listens any more.
            channels.remove(conversation);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, broadcast::Sender<Event>>> {
        // A panic while holding the lock cannot leave the map inconsistent:
        // every change is one insert or remove.
        self.channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
