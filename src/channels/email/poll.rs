//! The mailbox poller's link to the inbox: each message the IMAP poller
//! fetches is taken by the inbox; a message the inbox could not keep (the
//! database refused) stays in the mailbox for the next round.

use tokio::sync::watch;

use super::imap::{self, DeliverError, ImapSettings};
use super::inbound::Inbox;

impl imap::Deliver for Inbox {
    async fn deliver(&self, raw: Vec<u8>) -> Result<(), DeliverError> {
        match self.receive(&raw, jiff::Timestamp::now()).await {
            Ok(receipt) => {
                tracing::debug!(outcome = receipt.outcome(), "mail from the mailbox taken");
                Ok(())
            }
            Err(err) => Err(DeliverError(err.to_string())),
        }
    }
}

/// Polls the mailbox into `inbox` until the service stops.
pub async fn run(settings: ImapSettings, inbox: Inbox, stopping: watch::Receiver<bool>) {
    tracing::info!(host = %settings.host, mailbox = %settings.mailbox, "polling the mailbox");
    imap::run(settings, inbox, stopping).await;
}
