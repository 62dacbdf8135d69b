//! The chat channel: what the website widget may send and what it is
//! answered, as plain data. The HTTP API reads requests into these forms
//! and writes these answers; the checks live here, so that every way into
//! a chat applies the same ones.

use serde::{Deserialize, Serialize};

use crate::conversation::{Answered, Said, Start};
use crate::engine::{QuickReply, Status};
use crate::escalation::{EscalationReason, Priority};
use crate::rules::Channel;
use crate::secret::{Secret, verify_user_hash};
use crate::store::{ConversationRecord, Identity, MessageRecord};
use crate::text::Locale;

/// The longest name, e-mail address or external id accepted, in
/// characters.
pub const MAX_FIELD_CHARS: usize = 320;

/// Why a chat request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// A field is longer than accepted.
    #[error("`{field}` is longer than {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The most characters accepted.
        max: usize,
    },
    /// A text that must say something is empty.
    #[error("`{0}` is empty")]
    Empty(&'static str),
    /// `email` is not an e-mail address.
    #[error("`email` is not an e-mail address")]
    InvalidEmail,
    /// `locale` is not one madoguchi speaks.
    #[error("{0}")]
    UnknownLocale(String),
    /// `user_hash` was sent but no secret is configured to check it.
    #[error("identity verification is not set up: `user_hash` cannot be checked")]
    IdentityNotConfigured,
    /// `external_id` without `user_hash`, or the other way round.
    #[error("{0}")]
    IdentityIncomplete(&'static str),
    /// `user_hash` does not match `external_id`.
    #[error("`user_hash` does not match `external_id`")]
    IdentityUnverified,
    /// Feedback that says nothing.
    #[error("give `helpful`, `csat` or `comment`")]
    EmptyFeedback,
    /// A number outside its range.
    #[error("{0}")]
    OutOfRange(&'static str),
}

/// `POST /v1/conversations`: who the visitor is, all optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The visitor's name.
    pub name: Option<String>,
    /// An e-mail address the visitor gave.
    pub email: Option<String>,
    /// The page's language (`ja`, `en-US`).
    pub locale: Option<String>,
    /// The shop's id of a logged-in customer.
    pub external_id: Option<String>,
    /// HMAC-SHA256 of `external_id` with the shop's secret, in hex.
    pub user_hash: Option<String>,
}

/// The answer to a start: shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StartResponse {
    /// The conversation's id.
    pub id: String,
    /// Its bearer token.
    pub token: String,
}

impl StartRequest {
    /// The conversation to start: fields within their limits, the e-mail
    /// address and locale well-formed, and the identity established (a
    /// wrong `user_hash` is refused rather than silently ignored).
    ///
    /// # Errors
    /// [`ChatError`] saying which field is wrong.
    pub fn check<'a>(&'a self, identity_secret: Option<&Secret>) -> Result<Start<'a>, ChatError> {
        for (field, value) in [
            ("name", &self.name),
            ("email", &self.email),
            ("external_id", &self.external_id),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_FIELD_CHARS)
            {
                return Err(ChatError::TooLong {
                    field,
                    max: MAX_FIELD_CHARS,
                });
            }
        }
        let email = self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        if email.is_some_and(|e| !looks_like_email(e)) {
            return Err(ChatError::InvalidEmail);
        }
        let locale = self
            .locale
            .as_deref()
            .map(str::parse::<Locale>)
            .transpose()
            .map_err(|e| ChatError::UnknownLocale(e.to_string()))?;
        Ok(Start {
            channel: Channel::Chat,
            identity: self.identity(identity_secret, email)?,
            external_id: self.external_id.as_deref(),
            email,
            name: self.name.as_deref(),
            locale,
        })
    }

    /// How the customer is known: a valid `user_hash` verifies the
    /// `external_id`.
    fn identity(
        &self,
        secret: Option<&Secret>,
        email: Option<&str>,
    ) -> Result<Identity, ChatError> {
        match (&self.external_id, &self.user_hash) {
            (Some(external), Some(hash)) => {
                let secret = secret.ok_or(ChatError::IdentityNotConfigured)?;
                if verify_user_hash(secret.expose(), external, hash) {
                    Ok(Identity::Verified)
                } else {
                    Err(ChatError::IdentityUnverified)
                }
            }
            (Some(_), None) => Err(ChatError::IdentityIncomplete(
                "`external_id` needs its `user_hash` (HMAC-SHA256 of the id with the shop's secret)",
            )),
            (None, Some(_)) => Err(ChatError::IdentityIncomplete(
                "`user_hash` needs its `external_id`",
            )),
            (None, None) if email.is_some() => Ok(Identity::Email),
            (None, None) => Ok(Identity::Anonymous),
        }
    }
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
}

/// `POST /v1/conversations/{id}/messages`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// What the customer wrote, or the label of the quick reply tapped.
    pub text: String,
    /// The intent of the quick reply tapped (the `intent` it came with), so
    /// that the pick is taken as it is rather than classified again.
    #[serde(default)]
    pub quick_reply: Option<String>,
}

impl MessageRequest {
    /// The text, trimmed: not empty, and no longer than `max_chars`; and
    /// the quick reply, if one was tapped.
    ///
    /// # Errors
    /// [`ChatError`] for an empty or too long text or quick reply.
    pub fn check(&self, max_chars: usize) -> Result<Said<'_>, ChatError> {
        let text = checked_text(&self.text, "text", max_chars)?;
        let quick_reply = self
            .quick_reply
            .as_deref()
            .map(|q| checked_text(q, "quick_reply", MAX_FIELD_CHARS))
            .transpose()?;
        Ok(Said {
            text,
            quick_reply,
            needs_person: None,
        })
    }
}

/// A text trimmed, not empty and no longer than `max_chars`.
///
/// # Errors
/// [`ChatError`] for an empty or too long text.
pub fn checked_text<'a>(
    text: &'a str,
    field: &'static str,
    max_chars: usize,
) -> Result<&'a str, ChatError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ChatError::Empty(field));
    }
    if text.chars().count() > max_chars {
        return Err(ChatError::TooLong {
            field,
            max: max_chars,
        });
    }
    Ok(text)
}

/// The answer to a customer message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MessageResponse {
    /// What the bot says.
    pub reply: ReplyBody,
    /// The intent the message was taken as.
    pub intent: Option<String>,
    /// Whether the message handed the conversation to a person.
    pub escalated: bool,
    /// The handoff this message decided, if any: done (`pending: false`),
    /// or put off behind the question the reply asks (`pending: true`,
    /// made anyway after a few minutes without an answer).
    pub escalation: Option<EscalationBody>,
    /// The conversation's state afterwards.
    pub state: Status,
    /// Whether the customer's question was settled (they thanked or said
    /// goodbye after an answer): the moment to ask how it went.
    pub resolved: bool,
}

/// A handoff decided by a message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EscalationBody {
    /// Why.
    pub reason: EscalationReason,
    /// How urgent.
    pub priority: Priority,
    /// Whether it waits for the answer to the reply's question.
    pub pending: bool,
}

/// The bot's reply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReplyBody {
    /// Its text.
    pub text: String,
    /// Buttons that send a message for the customer.
    pub quick_replies: Vec<QuickReply>,
}

impl From<Answered> for MessageResponse {
    fn from(answered: Answered) -> Self {
        let decision = answered.decision;
        let escalation = match (decision.escalation, decision.deferred) {
            (Some(e), _) => Some((e, false)),
            (None, Some(e)) => Some((e, true)),
            (None, None) => None,
        };
        MessageResponse {
            escalated: decision.escalation.is_some(),
            escalation: escalation.map(|(e, pending)| EscalationBody {
                reason: e.reason,
                priority: e.priority,
                pending,
            }),
            state: decision.state.status,
            resolved: decision.resolved,
            reply: ReplyBody {
                text: decision.reply.text,
                quick_replies: decision.reply.quick_replies,
            },
            intent: answered.intent,
        }
    }
}

/// `GET /v1/conversations/{id}?after=SEQ&limit=N`: a page of the
/// transcript (opt-in: without them, the whole transcript).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TranscriptQuery {
    /// The messages after this place.
    pub after: Option<i64>,
    /// At most this many (1 to [`MAX_PAGE`]; 100 when `after` is given).
    pub limit: Option<i64>,
}

/// The most messages one page holds.
pub const MAX_PAGE: i64 = 500;

impl TranscriptQuery {
    /// Where the page starts and how long it is.
    ///
    /// # Errors
    /// [`ChatError::OutOfRange`] for a `limit` outside 1 to [`MAX_PAGE`] or
    /// a negative `after`.
    pub fn page(&self) -> Result<(i64, i64), ChatError> {
        if self.after.is_none() && self.limit.is_none() {
            return Ok((0, i64::MAX));
        }
        let limit = self.limit.unwrap_or(100);
        if !(1..=MAX_PAGE).contains(&limit) || self.after.is_some_and(|a| a < 0) {
            return Err(ChatError::OutOfRange(
                "`limit` must be from 1 to 500, and `after` a message's place",
            ));
        }
        Ok((self.after.unwrap_or(0), limit))
    }
}

/// The `after` of the page that follows `page`, a page of at most `limit`
/// messages: none when it is not full.
#[must_use]
pub fn next_after(page: &[MessageRecord], limit: i64) -> Option<i64> {
    i64::try_from(page.len())
        .is_ok_and(|n| n == limit)
        .then(|| page.last().map(|m| m.seq))
        .flatten()
}

/// The transcript as the customer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TranscriptResponse {
    /// The conversation's id.
    pub id: String,
    /// Its state.
    pub state: Status,
    /// The id of its last live event when it was read: a client that shows
    /// this transcript listens from there (`Last-Event-ID`), so that what
    /// the transcript already holds does not come again.
    pub last_event: i64,
    /// Its messages, in order.
    pub messages: Vec<TranscriptMessage>,
    /// The `after` of the next page, when the page is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<i64>,
}

impl TranscriptResponse {
    /// The response for a page of `messages` of at most `limit`.
    #[must_use]
    pub fn new(
        conversation: &ConversationRecord,
        messages: Vec<MessageRecord>,
        limit: i64,
    ) -> Self {
        let next = next_after(&messages, limit);
        TranscriptResponse {
            id: conversation.id.clone(),
            state: conversation.state.status,
            last_event: conversation.event_count,
            messages: messages.into_iter().map(TranscriptMessage::from).collect(),
            next,
        }
    }
}

/// A message as the customer sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TranscriptMessage {
    #[serde(flatten)]
    message: MessageRecord,
    /// When it was written (RFC 3339).
    at: String,
}

impl From<MessageRecord> for TranscriptMessage {
    fn from(message: MessageRecord) -> Self {
        let at = crate::conversation::rfc3339(message.created_at);
        TranscriptMessage { message, at }
    }
}

/// `POST /v1/conversations/{id}/feedback`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// Whether the bot helped.
    pub helpful: Option<bool>,
    /// Satisfaction, 1 to 5.
    pub csat: Option<i32>,
    /// Anything the customer adds.
    pub comment: Option<String>,
}

impl FeedbackRequest {
    /// Checks that the feedback says something, in range; returns the
    /// comment, masked.
    ///
    /// # Errors
    /// [`ChatError`] saying what is wrong.
    pub fn check(&self, max_chars: usize) -> Result<Option<String>, ChatError> {
        if self.helpful.is_none() && self.csat.is_none() && self.comment.is_none() {
            return Err(ChatError::EmptyFeedback);
        }
        if self.csat.is_some_and(|c| !(1..=5).contains(&c)) {
            return Err(ChatError::OutOfRange("`csat` must be from 1 to 5"));
        }
        let comment = self
            .comment
            .as_deref()
            .map(|c| crate::privacy::mask(c).into_owned());
        if comment
            .as_ref()
            .is_some_and(|c| c.chars().count() > max_chars)
        {
            return Err(ChatError::TooLong {
                field: "comment",
                max: max_chars,
            });
        }
        Ok(comment)
    }
}
