//! Taking one inbound mail: parse it, keep it (quarantine when it cannot
//! be read), attach bounces to the mail they bounce, refuse to answer
//! automatic mail, thread it into its conversation, decide on the
//! customer's new text like a chat message, and keep the answer in the
//! mail outbox — the mail and the answer in one transaction.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;

use super::autoreply::{self, Refusal, Us};
use super::parse::{self, Inbound};
use super::{quote, thread};
use crate::conversation::{self, Events, MessageError, Said, Start};
use crate::engine::{Decision, Status};
use crate::escalation::EscalationReason;
use crate::privacy::mask;
use crate::rules::{Channel, LiveRules};
use crate::store::{
    Identity, MailDetails, MailDirection, MailKind, MailStatus, NewMail, Store, StoreError,
};

/// How the inbox behaves.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The inbox address replies come from (lower case).
    pub address: String,
    /// The name shown with it.
    pub display_name: Option<String>,
    /// The domain of our Message-IDs.
    pub domain: String,
    /// The receiving server whose `Authentication-Results` is trusted.
    pub authserv_id: Option<String>,
    /// At most one automatic answer per sender in this window.
    pub reply_window: Duration,
    /// This many mails in one conversation within `burst_window` stop
    /// automatic answers there.
    pub burst_mails: i64,
    /// See `burst_mails`.
    pub burst_window: Duration,
    /// How long an address that bounced for good is not mailed.
    pub bounce_hold: Duration,
    /// Whether a relay is configured: without one, answers are kept, not
    /// sent.
    pub relay: bool,
    /// The most characters of a mail that are classified and kept in the
    /// transcript (the whole mail is kept beside it).
    pub max_chars: usize,
}

impl MailSettings {
    /// Settings for `address`, with the defaults.
    #[must_use]
    pub fn new(address: &str) -> Self {
        let address = address.trim().to_ascii_lowercase();
        let domain = address
            .rsplit_once('@')
            .map_or("localhost", |(_, d)| d)
            .to_owned();
        MailSettings {
            address,
            display_name: None,
            domain,
            authserv_id: None,
            reply_window: Duration::from_mins(10),
            burst_mails: 5,
            burst_window: Duration::from_mins(10),
            bounce_hold: Duration::from_hours(24 * 7),
            relay: false,
            max_chars: 4_000,
        }
    }

    fn us(&self) -> Us<'_> {
        Us {
            address: &self.address,
            domain: &self.domain,
            authserv_id: self.authserv_id.as_deref(),
        }
    }
}

/// Why a mail of a thread that is a burst is not answered.
const THREAD_BURST: &str = "thread_burst";

/// What became of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Decided on in `conversation`; `not_answered` says why no automatic
    /// answer is on its way, when none is.
    Taken {
        /// The conversation.
        conversation: String,
        /// `None` when answered, else why not (`sender_limit`...).
        not_answered: Option<&'static str>,
        /// Whether it went to a person.
        escalated: bool,
    },
    /// Kept without an answer: the refusal's reason.
    NotAnswered {
        /// Why.
        reason: &'static str,
    },
    /// A delivery status notification, attached to the mail it reports.
    Bounce {
        /// The conversation of the bounced mail, if found.
        conversation: Option<String>,
    },
    /// The same Message-ID was taken before.
    Duplicate,
    /// Could not be decoded: kept in quarantine.
    Quarantined {
        /// The quarantine entry.
        id: String,
        /// Why.
        reason: String,
    },
}

impl Receipt {
    /// The stable name of the outcome.
    #[must_use]
    pub fn outcome(&self) -> &'static str {
        match self {
            Receipt::Taken { .. } => "taken",
            Receipt::NotAnswered { .. } => "not_answered",
            Receipt::Bounce { .. } => "bounce",
            Receipt::Duplicate => "duplicate",
            Receipt::Quarantined { .. } => "quarantined",
        }
    }
}

/// What taking a mail needs.
#[derive(Clone)]
pub struct Inbox {
    /// The store.
    pub store: Store,
    /// The rules in force.
    pub rules: Arc<LiveRules>,
    /// Live listeners.
    pub events: Events,
    /// How the inbox behaves.
    pub settings: Arc<MailSettings>,
    /// Wakes the mail outbox.
    pub wake: Arc<Notify>,
}

impl Inbox {
    /// Takes one raw mail.
    ///
    /// # Errors
    /// A store failure (nothing was kept, and the sender, an MTA or the
    /// poller, should try again), or the conversation closed or deleted
    /// while the mail was being taken.
    #[tracing::instrument(name = "inbound_mail", skip_all)]
    pub async fn receive(&self, raw: &[u8], now: Timestamp) -> Result<Receipt, MessageError> {
        let receipt = self.take_in(raw, now).await?;
        metrics::counter!(crate::telemetry::MAIL_RECEIVED, "outcome" => receipt.outcome())
            .increment(1);
        let not_answered = match &receipt {
            Receipt::NotAnswered { reason } => Some(*reason),
            Receipt::Taken { not_answered, .. } => *not_answered,
            _ => None,
        };
        if let Some(reason) = not_answered {
            metrics::counter!(crate::telemetry::MAIL_NOT_ANSWERED, "reason" => reason).increment(1);
        }
        Ok(receipt)
    }

    async fn take_in(&self, raw: &[u8], now: Timestamp) -> Result<Receipt, MessageError> {
        // Decoding a large mail and cutting its history is work for a
        // blocking thread, not for the runtime's.
        let owned = raw.to_vec();
        let parsed = tokio::task::spawn_blocking(move || {
            parse::parse(&owned).map(|mail| {
                let stripped = quote::strip(&mail.body);
                (mail, stripped)
            })
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("decoding the mail failed: {e}")))?;
        let (mut mail, stripped) = match parsed {
            Ok(parsed) => parsed,
            Err(why) => return Ok(self.quarantine(raw, &why.to_string(), now).await?),
        };
        // Anyone can write a Reply-To: answers go to it only when the
        // receiving server vouches for the sender; else to From.
        if !autoreply::dmarc_passed(&mail, self.settings.authserv_id.as_deref()) {
            mail.reply_to.clone_from(&mail.from);
        }
        if self.store.mail_received(&mail.message_id).await? {
            tracing::info!(message_id = %mail.message_id, "mail taken before; ignored");
            return Ok(Receipt::Duplicate);
        }
        if let Some(bounce) = &mail.bounce {
            return Ok(self.bounce(&mail, bounce, now).await?);
        }
        if let Some(refusal) = autoreply::refusal(&mail, &self.settings.us()) {
            return Ok(self.not_answered(&mail, &refusal, now).await?);
        }
        self.take(&mail, stripped, now).await
    }

    async fn quarantine(
        &self,
        raw: &[u8],
        reason: &str,
        now: Timestamp,
    ) -> Result<Receipt, StoreError> {
        let id = crate::ids::new_id();
        self.store
            .quarantine(&id, reason, raw, now.as_millisecond())
            .await?;
        tracing::warn!(quarantine = %id, reason, "mail could not be decoded: quarantined, not answered");
        Ok(Receipt::Quarantined {
            id,
            reason: reason.to_owned(),
        })
    }

    async fn bounce(
        &self,
        mail: &Inbound,
        bounce: &parse::Bounce,
        now: Timestamp,
    ) -> Result<Receipt, StoreError> {
        let bounced = match &bounce.message_id {
            Some(id) => self
                .store
                .mails_with_id(id)
                .await?
                .into_iter()
                .find(|m| m.direction == MailDirection::Out),
            None => None,
        };
        let conversation = bounced.as_ref().and_then(|m| m.conversation_id.clone());
        let hold = jiff::SignedDuration::try_from(self.settings.bounce_hold).unwrap_or_default();
        let until = now.checked_add(hold).unwrap_or(now).as_millisecond();
        let reason = bounce.status.as_deref().unwrap_or("failed");
        // Anyone can send something that looks like a bounce: only the
        // recipient of a mail of ours that it returns is held.
        let failed_recipient = bounced
            .as_ref()
            .and_then(|m| m.recipient.as_deref())
            .filter(|recipient| bounce.failed.iter().any(|f| f == recipient));
        if let Some(address) = failed_recipient {
            self.store.bounced(address, reason, until).await?;
        } else {
            tracing::warn!(
                failed = %bounce.failed.join(", "),
                "a bounce that returns no mail of ours to that address: kept, no address held"
            );
        }
        let mut kept = inbound_mail(mail, MailKind::Bounce, MailDetails::default());
        kept.details.failed_recipient = Some(bounce.failed.join(", "));
        kept.details.decided_by = bounce.message_id.clone();
        if !self
            .store
            .insert_mail(&kept, conversation.as_deref(), now.as_millisecond())
            .await?
        {
            return Ok(Receipt::Duplicate);
        }
        tracing::warn!(
            failed = %bounce.failed.join(", "),
            status = reason,
            conversation = conversation.as_deref().unwrap_or("-"),
            "bounce: the address is not mailed again for a while"
        );
        Ok(Receipt::Bounce { conversation })
    }

    async fn not_answered(
        &self,
        mail: &Inbound,
        refusal: &Refusal,
        now: Timestamp,
    ) -> Result<Receipt, StoreError> {
        let conversation = thread::find(
            &self.store,
            &mail.from,
            &refers_to(mail),
            &mail.subject,
            &self.settings.domain,
            now,
        )
        .await?;
        let details = MailDetails {
            not_answered: Some(refusal.reason.as_str().to_owned()),
            decided_by: Some(refusal.header.clone()),
            ..MailDetails::default()
        };
        let kept = inbound_mail(mail, MailKind::Suppressed, details);
        if !self
            .store
            .insert_mail(&kept, conversation.as_deref(), now.as_millisecond())
            .await?
        {
            return Ok(Receipt::Duplicate);
        }
        tracing::info!(
            from = %mail.from,
            reason = refusal.reason.as_str(),
            header = %refusal.header,
            "mail not answered"
        );
        Ok(Receipt::NotAnswered {
            reason: refusal.reason.as_str(),
        })
    }

    /// A customer's mail: threaded, decided on, answered within the limits.
    async fn take(
        &self,
        mail: &Inbound,
        stripped: quote::Stripped,
        now: Timestamp,
    ) -> Result<Receipt, MessageError> {
        let (record, new) = self.conversation(mail, now).await?;
        let customer = record.customer_id.clone();
        let said = said(mail, &stripped, new, self.settings.max_chars);
        let not_answered = self.limit(mail, &record.id, now).await?;
        let settings = Arc::clone(&self.settings);
        let verified = autoreply::dmarc_passed(mail, settings.authserv_id.as_deref());
        let conversation_id = record.id.clone();
        let for_reply = record.id.clone();
        let mails = move |decision: &Decision, _text: &str| {
            let details = MailDetails {
                stripped: Some(mask(&stripped.text).into_owned()),
                cuts: stripped
                    .cuts
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
                not_answered: not_answered.map(str::to_owned),
                sender_verified: verified,
                ..MailDetails::default()
            };
            let mut kept = vec![inbound_mail(mail, MailKind::Customer, details)];
            if not_answered.is_none() && !decision.reply.text.trim().is_empty() {
                kept.push(reply(mail, &for_reply, decision, &settings));
            }
            kept
        };
        let answered = conversation::customer_message_with(
            &self.store,
            &self.rules.current(),
            &self.events,
            record,
            Said {
                // A burst in one thread (another system answering each of
                // our mails, or a flood) goes to a person instead.
                needs_person: (not_answered == Some(THREAD_BURST))
                    .then_some(EscalationReason::MailBurst),
                ..Said::typed(&said)
            },
            now,
            &mails,
        )
        .await;
        let answered = match answered {
            Ok(answered) => answered,
            // Another delivery of the same mail (a second poller, a
            // retrying MTA) was faster: it is taken once, and the
            // conversation started for this one goes.
            Err(MessageError::Store(err)) if err.is_duplicate() => {
                if new {
                    self.store.delete_customer(&customer).await?;
                }
                return Ok(Receipt::Duplicate);
            }
            Err(err) => return Err(err),
        };
        self.wake.notify_one();
        if !self.settings.relay && not_answered.is_none() {
            tracing::info!(to = %mail.reply_to, "no smtp_url: the answer is kept (held), not sent");
        }
        let escalated = answered.decision.escalation.is_some();
        tracing::info!(
            from = %mail.from,
            escalated,
            not_answered = not_answered.unwrap_or("-"),
            "mail taken"
        );
        Ok(Receipt::Taken {
            conversation: conversation_id,
            not_answered,
            escalated,
        })
    }

    /// The sender's conversation this mail continues, or a new one.
    async fn conversation(
        &self,
        mail: &Inbound,
        now: Timestamp,
    ) -> Result<(crate::store::ConversationRecord, bool), StoreError> {
        let found = thread::find(
            &self.store,
            &mail.from,
            &refers_to(mail),
            &mail.subject,
            &self.settings.domain,
            now,
        )
        .await?;
        if let Some(id) = found
            && let Some(record) = self.store.conversation(&id).await?
            && record.state.status != Status::Closed
        {
            return Ok((record, false));
        }
        let name = mail.name.as_deref();
        let started = conversation::start(
            &self.store,
            &self.rules.current(),
            &Start {
                channel: Channel::Email,
                identity: Identity::EmailSender,
                external_id: None,
                email: Some(&mail.from),
                name,
                locale: None,
            },
            now,
        )
        .await?;
        let record = self
            .store
            .conversation(&started.id)
            .await?
            .ok_or_else(|| StoreError::Corrupt("a started conversation is gone".to_owned()))?;
        Ok((record, true))
    }

    /// Why this mail gets no automatic answer although it may have one:
    /// the sender had one lately, the thread is a burst, or the address
    /// bounced.
    async fn limit(
        &self,
        mail: &Inbound,
        conversation: &str,
        now: Timestamp,
    ) -> Result<Option<&'static str>, StoreError> {
        let ago = |d: Duration| {
            jiff::SignedDuration::try_from(d)
                .ok()
                .and_then(|d| now.checked_sub(d).ok())
                .unwrap_or(now)
                .as_millisecond()
        };
        if self
            .store
            .bounced_until(&mail.reply_to, now.as_millisecond())
            .await?
            .is_some()
        {
            return Ok(Some("bounced_recipient"));
        }
        let received = self
            .store
            .mails_received_in(conversation, ago(self.settings.burst_window))
            .await?;
        if received >= self.settings.burst_mails {
            tracing::warn!(
                conversation,
                received,
                "a burst of mail in one conversation: automatic answers stop"
            );
            return Ok(Some(THREAD_BURST));
        }
        let recent = self
            .store
            .mails_sent_to(&mail.reply_to, ago(self.settings.reply_window))
            .await?;
        if recent
            .iter()
            .any(|m| matches!(m.kind, MailKind::AutoReply | MailKind::Acknowledgement))
        {
            tracing::info!(to = %mail.reply_to, "an automatic answer went to this sender lately: not answered again");
            return Ok(Some("sender_limit"));
        }
        Ok(None)
    }
}

/// What is classified: a new question with its subject (it often is the
/// question), a reply without it (it repeats what was answered) unless the
/// reply says nothing else (a photo sent with "Re: ..."), within the
/// longest text a message may have.
fn said(mail: &Inbound, stripped: &quote::Stripped, new: bool, max_chars: usize) -> String {
    let subject = mail.subject.trim();
    let text = stripped.text.trim();
    let said = if (new || text.is_empty()) && !subject.is_empty() {
        format!("{}\n{text}", thread::base_subject(subject))
    } else {
        text.to_owned()
    };
    said.chars().take(max_chars).collect()
}

/// The Message-IDs a mail refers to, oldest first.
fn refers_to(mail: &Inbound) -> Vec<String> {
    let mut ids = mail.references.clone();
    if let Some(id) = &mail.in_reply_to
        && !ids.contains(id)
    {
        ids.push(id.clone());
    }
    ids
}

/// An inbound mail as kept: masked (subject, body, the names of its
/// attachments), with its threading.
fn inbound_mail(mail: &Inbound, kind: MailKind, details: MailDetails) -> NewMail {
    let mut attachments = mail.attachments.clone();
    for a in &mut attachments {
        a.name = mask(&a.name).into_owned();
    }
    NewMail {
        id: crate::ids::new_id(),
        direction: MailDirection::In,
        kind,
        message_id: mail.message_id.clone(),
        sender: Some(mail.from.clone()),
        recipient: None,
        subject: mask(&mail.subject).into_owned(),
        body: mask(&mail.body).into_owned(),
        details: MailDetails {
            in_reply_to: mail.in_reply_to.clone(),
            references: mail.references.clone(),
            attachments,
            ..details
        },
        status: MailStatus::Received,
    }
}

/// The most `References` an answer carries: the first and the latest
/// (RFC 5322 §3.6.4 allows trimming the middle).
const MAX_REFERENCES: usize = 10;

/// The automatic answer to `mail`: the decision's reply (the rule set's
/// e-mail variant), or its acknowledgement when a person takes over.
fn reply(
    mail: &Inbound,
    conversation: &str,
    decision: &Decision,
    settings: &MailSettings,
) -> NewMail {
    let kind = if decision.escalation.is_some() {
        MailKind::Acknowledgement
    } else {
        MailKind::AutoReply
    };
    let mut references = refers_to(mail);
    references.push(mail.message_id.clone());
    outgoing(
        settings,
        conversation,
        kind,
        Some(mail.reply_to.clone()),
        mask(&reply_subject(&mail.subject)).into_owned(),
        decision.reply.text.clone(),
        &mail.message_id,
        references,
    )
}

/// A mail of ours in reply to `in_reply_to`: from the inbox, threaded,
/// pending when a relay is configured and held otherwise.
#[allow(clippy::too_many_arguments)]
fn outgoing(
    settings: &MailSettings,
    conversation: &str,
    kind: MailKind,
    recipient: Option<String>,
    subject: String,
    body: String,
    in_reply_to: &str,
    references: Vec<String>,
) -> NewMail {
    NewMail {
        id: crate::ids::new_id(),
        direction: MailDirection::Out,
        kind,
        message_id: thread::message_id(conversation, &settings.domain),
        sender: Some(settings.address.clone()),
        recipient,
        subject,
        body,
        details: MailDetails {
            in_reply_to: Some(in_reply_to.to_owned()),
            references: thread::first_and_latest(references, MAX_REFERENCES),
            ..MailDetails::default()
        },
        status: if settings.relay {
            MailStatus::Pending
        } else {
            MailStatus::Held
        },
    }
}

/// `Re: ` and the subject without its own reply prefixes.
#[must_use]
pub fn reply_subject(subject: &str) -> String {
    let base = thread::base_subject(subject);
    if base.is_empty() {
        "Re: ".to_owned() + "(no subject)"
    } else {
        format!("Re: {base}")
    }
}

/// Makes a person's answer into a mail.
pub type AgentReply = Box<dyn Fn(&str, &str) -> NewMail + Send + Sync>;

/// How a person's answer in an e-mail conversation goes out: as ordinary
/// mail from the inbox (not marked automatic), in reply to the customer's
/// latest mail. `None` when the conversation has no mail from the
/// customer to answer.
#[must_use]
pub fn agent_reply(
    settings: &Arc<MailSettings>,
    conversation: &str,
    mails: &[crate::store::MailRecord],
) -> Option<AgentReply> {
    let last = mails
        .iter()
        .rev()
        .find(|m| m.direction == MailDirection::In && m.kind == MailKind::Customer)?
        .clone();
    let settings = Arc::clone(settings);
    let conversation = conversation.to_owned();
    Some(Box::new(move |_agent: &str, text: &str| {
        let mut references = last.details.references.clone();
        references.push(last.message_id.clone());
        outgoing(
            &settings,
            &conversation,
            MailKind::AgentReply,
            last.sender.clone(),
            reply_subject(&last.subject),
            text.to_owned(),
            &last.message_id,
            references,
        )
    }))
}
