//! The mail outbox: sends what the inbox answers through the SMTP relay,
//! on the handoff outbox's schedule and lanes (claimed under a lease,
//! retried with jitter, dead-lettered when the failure is permanent or the
//! schedule is spent), so a relay that is down loses nothing.
//!
//! Automatic answers go out as RFC 3834 asks: `Auto-Submitted:
//! auto-replied`, `X-Auto-Response-Suppress: All`, our `X-Loop`, and an
//! empty envelope sender, so that whatever bounces or answers them
//! automatically does not come back as mail to answer. A person's answer
//! is ordinary mail from the inbox.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{Address, AsyncTransport, Tokio1Executor};
use tokio::sync::{Notify, watch};

use super::inbound::MailSettings;
use crate::handoff::outbox::{Clock, Schedule, run_lanes};
use crate::store::{MailKind, MailOutcome, MailRecord, Store, StoreError};

/// Mails sent at once.
const LANES: usize = 2;

/// The longest an SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the relay cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("the SMTP relay URL is not usable: {0}")]
pub struct RelayError(String);

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Nothing was due.
    Empty,
    /// The relay took it.
    Sent(String),
    /// Failed; tried again later.
    Retry(String),
    /// Failed for good.
    Dead(String),
    /// Another worker has it now.
    LeaseLost(String),
}

/// The mail outbox worker.
pub struct MailOutbox {
    store: Store,
    relay: AsyncSmtpTransport<Tokio1Executor>,
    settings: Arc<MailSettings>,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
}

impl MailOutbox {
    /// A worker sending through `smtp_url` (`smtp://host:port` in the
    /// clear, `smtp://...?tls=required` for STARTTLS, `smtps://` for TLS).
    ///
    /// # Errors
    /// When the URL is not one lettre can use.
    pub fn new(
        store: Store,
        smtp_url: &str,
        settings: Arc<MailSettings>,
        schedule: Schedule,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RelayError> {
        let relay = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| RelayError(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(MailOutbox {
            store,
            relay,
            settings,
            schedule,
            clock,
        })
    }

    /// Takes the mail due first and sends it.
    ///
    /// # Errors
    /// When the store fails (the mail stays in the outbox).
    pub async fn step(&self) -> Result<Sent, StoreError> {
        let now = self.clock.now();
        let lease_end = Schedule::lease_end(now);
        let Some(mail) = self
            .store
            .claim_mail(now.as_millisecond(), lease_end.as_millisecond())
            .await?
        else {
            return Ok(Sent::Empty);
        };
        if let Some(recipient) = mail.recipient.as_deref()
            && let Some(until) = self
                .store
                .bounced_until(recipient, now.as_millisecond())
                .await?
        {
            let error = format!(
                "{recipient} bounced for good; not mailed before {}",
                crate::conversation::rfc3339(until)
            );
            return self
                .outcome(&mail, MailOutcome::Dead { error: &error }, now)
                .await;
        }
        let message = match build(&mail, &self.settings) {
            Ok(message) => message,
            Err(why) => {
                return self
                    .outcome(&mail, MailOutcome::Dead { error: &why }, now)
                    .await;
            }
        };
        match self.relay.send(message).await {
            Ok(_) => self.outcome(&mail, MailOutcome::Sent, now).await,
            Err(err) if err.is_permanent() => {
                let error = format!("the relay refused the mail: {err}");
                // Automatic answers go out with the null sender, so no
                // bounce comes back for them: the relay's refusal is the
                // bounce.
                if let Some(recipient) = mail.recipient.as_deref() {
                    let hold = jiff::SignedDuration::try_from(self.settings.bounce_hold)
                        .unwrap_or_default();
                    let until = now.checked_add(hold).unwrap_or(now).as_millisecond();
                    self.store.bounced(recipient, &error, until).await?;
                }
                self.outcome(&mail, MailOutcome::Dead { error: &error }, now)
                    .await
            }
            Err(err) => {
                let error = format!("sending failed: {err}");
                let outcome = if let Some(at) = self.schedule.next_attempt(mail.attempts, None, now)
                {
                    MailOutcome::Retry {
                        at: at.as_millisecond(),
                        error: &error,
                    }
                } else {
                    let spent = format!(
                        "retry schedule spent after {} attempts; last error: {error}",
                        mail.attempts
                    );
                    return self
                        .outcome(&mail, MailOutcome::Dead { error: &spent }, now)
                        .await;
                };
                self.outcome(&mail, outcome, now).await
            }
        }
    }

    async fn outcome(
        &self,
        mail: &MailRecord,
        outcome: MailOutcome<'_>,
        now: Timestamp,
    ) -> Result<Sent, StoreError> {
        let held = self
            .store
            .mail_outcome(&mail.id, mail.attempts, outcome, now.as_millisecond())
            .await?;
        let id = mail.id.clone();
        if !held {
            tracing::warn!(mail = %id, "lease ran out while sending; another worker has the mail");
            return Ok(Sent::LeaseLost(id));
        }
        let to = mail.recipient.as_deref().unwrap_or("-");
        let counted = match outcome {
            MailOutcome::Sent => "sent",
            MailOutcome::Retry { .. } => "retry",
            MailOutcome::Dead { .. } => "dead",
        };
        metrics::counter!(crate::telemetry::MAIL_DELIVERIES, "outcome" => counted).increment(1);
        Ok(match outcome {
            MailOutcome::Sent => {
                tracing::info!(mail = %id, to, kind = mail.kind.as_str(), "mail sent");
                Sent::Sent(id)
            }
            MailOutcome::Retry { error, .. } => {
                tracing::warn!(mail = %id, to, attempts = mail.attempts, error, "mail not sent; will retry");
                Sent::Retry(id)
            }
            MailOutcome::Dead { error } => {
                tracing::error!(mail = %id, to, error, "mail dead-lettered");
                Sent::Dead(id)
            }
        })
    }

    /// Sends until `stopping` turns true.
    pub async fn run(self, stopping: watch::Receiver<bool>, wake: Arc<Notify>) {
        run_lanes(LANES, stopping, wake, || async {
            self.step().await.map(|sent| sent != Sent::Empty)
        })
        .await;
    }
}

fn header(name: &'static str, value: impl Into<String>) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.into())
}

/// The mail as it goes out.
///
/// # Errors
/// A description when an address is not one (then it cannot be sent).
pub fn build(mail: &MailRecord, settings: &MailSettings) -> Result<Message, String> {
    let to: Address = mail
        .recipient
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e| format!("the recipient is not an address: {e}"))?;
    let from: Address = settings
        .address
        .parse()
        .map_err(|e| format!("the inbox address is not an address: {e}"))?;
    let automatic = matches!(mail.kind, MailKind::AutoReply | MailKind::Acknowledgement);
    // RFC 3834 §3.3: an automatic answer goes out with the null sender,
    // so nothing that answers it comes back to be answered.
    let envelope_from = (!automatic).then(|| from.clone());
    let envelope = lettre::address::Envelope::new(envelope_from, vec![to.clone()])
        .map_err(|e| e.to_string())?;
    let date = std::time::UNIX_EPOCH
        + Duration::from_millis(u64::try_from(mail.created_at).unwrap_or_default());
    let mut builder = Message::builder()
        .from(Mailbox::new(settings.display_name.clone(), from))
        .to(Mailbox::new(None, to))
        .subject(mail.subject.clone())
        .message_id(Some(format!("<{}>", mail.message_id)))
        .date(date)
        .envelope(envelope)
        .raw_header(header("X-Loop", settings.address.clone()));
    if let Some(in_reply_to) = &mail.details.in_reply_to {
        builder = builder.in_reply_to(format!("<{in_reply_to}>"));
    }
    if !mail.details.references.is_empty() {
        let references = mail
            .details
            .references
            .iter()
            .map(|r| format!("<{r}>"))
            .collect::<Vec<_>>()
            .join(" ");
        builder = builder.references(references);
    }
    if automatic {
        builder = builder
            .raw_header(header("Auto-Submitted", "auto-replied"))
            .raw_header(header("X-Auto-Response-Suppress", "All"))
            .raw_header(header("Precedence", "auto_reply"));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| e.to_string())
}
