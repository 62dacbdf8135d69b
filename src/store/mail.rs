//! The e-mail channel's tables: every mail received or sent (`mails`, also
//! the mail outbox), undecodable mail in quarantine, and addresses that
//! bounced. The statements are few and simple, so they go through one
//! small parameter type for both backends instead of a typed function per
//! backend and statement.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Backend, Store, StoreError, rows::stored};

/// A statement parameter or a column value.
#[derive(Debug, Clone)]
pub(super) enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Vec<u8>),
}

impl Value {
    pub(super) fn text(self) -> Option<String> {
        match self {
            Value::Text(t) => t,
            Value::Int(i) => i.map(|i| i.to_string()),
            Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        }
    }

    pub(super) fn int(self) -> Option<i64> {
        match self {
            Value::Int(i) => i,
            Value::Text(t) => t.and_then(|t| t.parse().ok()),
            Value::Bytes(_) => None,
        }
    }

    fn bytes(self) -> Vec<u8> {
        match self {
            Value::Bytes(b) => b,
            Value::Text(t) => t.unwrap_or_default().into_bytes(),
            Value::Int(_) => Vec::new(),
        }
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(Some(s.into()))
}

fn opt(s: Option<&str>) -> Value {
    Value::Text(s.map(str::to_owned))
}

pub(super) fn int(i: i64) -> Value {
    Value::Int(Some(i))
}

/// The type a column is read as.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Text,
    Int,
    Bytes,
}

/// Whether a mail came in or goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailDirection {
    /// Received.
    In,
    /// Sent (or to be sent).
    Out,
}

/// What a mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A customer's mail, decided on like a chat message.
    Customer,
    /// A mail not answered (an auto-reply, a list, a no-reply sender...):
    /// kept with the header that decided it.
    Suppressed,
    /// A delivery status notification about one of our mails.
    Bounce,
    /// The bot's answer.
    AutoReply,
    /// The acknowledgement of a mail handed to a person.
    Acknowledgement,
    /// A person's answer, sent from the inbox.
    AgentReply,
}

/// Where a mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Received and kept.
    Received,
    /// Waiting to be sent (or retried).
    Pending,
    /// Taken by the relay.
    Sent,
    /// Given up after failures: waits for an operator.
    Dead,
    /// Kept without sending: no relay is configured.
    Held,
}

macro_rules! names {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            /// The stored name.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),* }
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(<$t>::$v),)*
                    _ => Err(format!("unknown value `{s}`")),
                }
            }
        }
    };
}

names!(MailDirection { In => "in", Out => "out" });
names!(MailKind {
    Customer => "customer",
    Suppressed => "suppressed",
    Bounce => "bounce",
    AutoReply => "auto_reply",
    Acknowledgement => "acknowledgement",
    AgentReply => "agent_reply",
});
names!(MailStatus {
    Received => "received",
    Pending => "pending",
    Sent => "sent",
    Dead => "dead",
    Held => "held",
});

/// A file attached to a mail: listed, not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Its file name, as the sender's client gave it.
    pub name: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its decoded size in bytes.
    pub size: u64,
}

/// What is kept of a mail besides its body: threading, attachments, what
/// was classified, and why it was not answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailDetails {
    /// `In-Reply-To`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Attached files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// The customer's new text, without quoted history and signature: what
    /// was classified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripped: Option<String>,
    /// What was cut from the body (`quoted_lines`, `signature`...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<String>,
    /// Why no auto-reply was sent, when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_answered: Option<String>,
    /// The header (or limit) that decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Whether the receiving server's DMARC check passed for the sender.
    #[serde(default)]
    pub sender_verified: bool,
    /// For a bounce: the address that failed and its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_recipient: Option<String>,
}

/// A mail to keep (and, going out, to send).
#[derive(Debug, Clone)]
pub struct NewMail {
    /// Its id.
    pub id: String,
    /// In or out.
    pub direction: MailDirection,
    /// What it is.
    pub kind: MailKind,
    /// Its Message-ID, without angle brackets.
    pub message_id: String,
    /// From (bare address).
    pub sender: Option<String>,
    /// To (bare address).
    pub recipient: Option<String>,
    /// Subject.
    pub subject: String,
    /// Body: for inbound mail the whole decoded text, masked.
    pub body: String,
    /// Threading, attachments, decisions.
    pub details: MailDetails,
    /// Received, pending (to send) or held (no relay).
    pub status: MailStatus,
}

/// A kept mail.
#[derive(Debug, Clone, Serialize)]
pub struct MailRecord {
    /// Its id.
    pub id: String,
    /// The conversation it belongs to, if any.
    pub conversation_id: Option<String>,
    /// The transcript message it belongs to.
    pub seq: Option<i64>,
    /// In or out.
    pub direction: MailDirection,
    /// What it is.
    pub kind: MailKind,
    /// Its Message-ID, without angle brackets.
    pub message_id: String,
    /// From.
    pub sender: Option<String>,
    /// To.
    pub recipient: Option<String>,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Threading, attachments, decisions.
    pub details: MailDetails,
    /// Where it stands.
    pub status: MailStatus,
    /// Sending attempts so far.
    pub attempts: i64,
    /// The last sending error.
    pub last_error: Option<String>,
    /// When it was kept (milliseconds).
    pub created_at: i64,
}

/// A quarantined mail, as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuarantinedMail {
    /// Its id.
    pub id: String,
    /// Why it could not be taken.
    pub reason: String,
    /// Its size in bytes.
    pub size: i64,
    /// When it came (milliseconds).
    pub received_at: i64,
}

const MAIL_COLUMNS: &str = "id, conversation_id, seq, direction, kind, message_id, sender, \
     recipient, subject, body, details, status, attempts, last_error, created_at";

const MAIL_KINDS: [Kind; 15] = [
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Text,
    Kind::Int,
    Kind::Text,
    Kind::Int,
];

pub(super) const INSERT_MAIL: &str = "INSERT INTO mails (id, conversation_id, seq, direction, \
     kind, message_id, sender, recipient, subject, body, details, status, next_attempt_at, \
     created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $13)";

/// The parameters of [`INSERT_MAIL`].
pub(super) fn insert_params(
    mail: &NewMail,
    conversation: Option<&str>,
    seq: Option<i64>,
    at: i64,
) -> Vec<Value> {
    vec![
        text(&mail.id),
        opt(conversation),
        Value::Int(seq),
        text(mail.direction.as_str()),
        text(mail.kind.as_str()),
        text(&mail.message_id),
        opt(mail.sender.as_deref()),
        opt(mail.recipient.as_deref()),
        text(&mail.subject),
        text(&mail.body),
        text(serde_json::to_string(&mail.details).unwrap_or_else(|_| "{}".to_owned())),
        text(mail.status.as_str()),
        int(at),
    ]
}

fn mail_record(row: Vec<Value>) -> Result<MailRecord, StoreError> {
    let mut it = row.into_iter();
    let mut next = || it.next().unwrap_or(Value::Text(None));
    let id = next().text().unwrap_or_default();
    let conversation_id = next().text();
    let seq = next().int();
    let direction = stored("direction", &next().text().unwrap_or_default())?;
    let kind = stored("kind", &next().text().unwrap_or_default())?;
    let message_id = next().text().unwrap_or_default();
    let sender = next().text();
    let recipient = next().text();
    let subject = next().text().unwrap_or_default();
    let body = next().text().unwrap_or_default();
    let details = serde_json::from_str(&next().text().unwrap_or_default())
        .map_err(|e| StoreError::Corrupt(format!("details: {e}")))?;
    let status = stored("status", &next().text().unwrap_or_default())?;
    Ok(MailRecord {
        id,
        conversation_id,
        seq,
        direction,
        kind,
        message_id,
        sender,
        recipient,
        subject,
        body,
        details,
        status,
        attempts: next().int().unwrap_or_default(),
        last_error: next().text(),
        created_at: next().int().unwrap_or_default(),
    })
}

/// The first column of the first row, if there is one.
pub(super) fn scalar(rows: Vec<Vec<Value>>) -> Option<Value> {
    rows.into_iter().next().and_then(|r| r.into_iter().next())
}

/// `$first, $first+1, ...` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    async fn exec(&self, sql: &str, params: Vec<Value>) -> Result<u64, StoreError> {
        let done = match &self.backend {
            Backend::Sqlite(db) => db.exec(sql, params).await,
            Backend::Postgres(pool) => super::postgres::exec(pool, sql, params).await,
        };
        self.note_write(&done);
        done
    }

    pub(super) async fn query(
        &self,
        sql: &str,
        params: Vec<Value>,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.query(sql, params, kinds).await,
            Backend::Postgres(pool) => super::postgres::query(pool, sql, params, kinds).await,
        }
    }

    async fn mails_where(
        &self,
        condition: &str,
        params: Vec<Value>,
    ) -> Result<Vec<MailRecord>, StoreError> {
        let sql = format!("SELECT {MAIL_COLUMNS} FROM mails WHERE {condition}");
        self.query(&sql, params, &MAIL_KINDS)
            .await?
            .into_iter()
            .map(mail_record)
            .collect()
    }

    /// Keeps a mail that belongs to no conversation write (a suppressed
    /// mail, a bounce). `false` when an inbound mail with its Message-ID
    /// was kept before.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn insert_mail(
        &self,
        mail: &NewMail,
        conversation: Option<&str>,
        at: i64,
    ) -> Result<bool, StoreError> {
        match self
            .exec(INSERT_MAIL, insert_params(mail, conversation, None, at))
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if is_duplicate(&err) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Whether an inbound mail with this Message-ID was taken already.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mail_received(&self, message_id: &str) -> Result<bool, StoreError> {
        let found = self
            .query(
                "SELECT 1 FROM mails WHERE message_id = $1 AND direction = 'in'",
                vec![text(message_id)],
                &[Kind::Int],
            )
            .await?;
        Ok(!found.is_empty())
    }

    /// The conversation of `sender` that one of `message_ids` (kept in or
    /// out) belongs to, the newest first. Only the sender's own
    /// conversations count: a stranger quoting a Message-ID joins nothing.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mail_thread(
        &self,
        sender: &str,
        message_ids: &[String],
    ) -> Result<Option<String>, StoreError> {
        if message_ids.is_empty() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT m.conversation_id FROM mails m \
             JOIN conversations c ON c.id = m.conversation_id \
             JOIN customers u ON u.id = c.customer_id \
             WHERE u.email = $1 AND m.message_id IN ({}) \
             ORDER BY m.created_at DESC LIMIT 1",
            placeholders(2, message_ids.len())
        );
        let mut params = vec![text(sender)];
        params.extend(message_ids.iter().map(text));
        let found = self.query(&sql, params, &[Kind::Text]).await?;
        Ok(found
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .and_then(Value::text))
    }

    /// Whether `conversation` is `sender`'s.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn conversation_of(
        &self,
        conversation: &str,
        sender: &str,
    ) -> Result<bool, StoreError> {
        let found = self
            .query(
                "SELECT 1 FROM conversations c JOIN customers u ON u.id = c.customer_id \
                 WHERE c.id = $1 AND u.email = $2",
                vec![text(conversation), text(sender)],
                &[Kind::Int],
            )
            .await?;
        Ok(!found.is_empty())
    }

    /// The mails sent to `recipient` since `since`, newest first (at most
    /// 50): for threading a reply whose client dropped its headers, and
    /// for the limit of auto-replies per sender.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mails_sent_to(
        &self,
        recipient: &str,
        since: i64,
    ) -> Result<Vec<MailRecord>, StoreError> {
        self.mails_where(
            "direction = 'out' AND recipient = $1 AND created_at >= $2 \
             ORDER BY created_at DESC LIMIT 50",
            vec![text(recipient), int(since)],
        )
        .await
    }

    /// How many mails came into `conversation` since `since`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mails_received_in(
        &self,
        conversation: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        let found = self
            .query(
                "SELECT COUNT(*) FROM mails WHERE conversation_id = $1 AND direction = 'in' \
                 AND created_at >= $2",
                vec![text(conversation), int(since)],
                &[Kind::Int],
            )
            .await?;
        Ok(scalar(found).and_then(Value::int).unwrap_or(0))
    }

    /// The mails of a conversation, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails; [`StoreError::Corrupt`] for a
    /// stored value madoguchi never wrote.
    pub async fn conversation_mails(
        &self,
        conversation: &str,
    ) -> Result<Vec<MailRecord>, StoreError> {
        self.mails_where(
            "conversation_id = $1 ORDER BY created_at, COALESCE(seq, 0), direction, id",
            vec![text(conversation)],
        )
        .await
    }

    /// Mails in one status, newest first (dead letters, held mail).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mails_in(
        &self,
        status: MailStatus,
        limit: i64,
    ) -> Result<Vec<MailRecord>, StoreError> {
        self.mails_where(
            "status = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            vec![text(status.as_str()), int(limit)],
        )
        .await
    }

    /// The mails kept with this Message-ID (a bounce names the one it
    /// reports).
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mails_with_id(&self, message_id: &str) -> Result<Vec<MailRecord>, StoreError> {
        self.mails_where("message_id = $1", vec![text(message_id)])
            .await
    }

    /// The inbound mails since `since` (milliseconds): what each was and
    /// why it was not answered, for counting.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mails_received_since(
        &self,
        since: i64,
    ) -> Result<Vec<(MailKind, MailDetails)>, StoreError> {
        let rows = self
            .query(
                "SELECT kind, details FROM mails WHERE direction = 'in' AND created_at >= $1",
                vec![int(since)],
                &[Kind::Text, Kind::Text],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let mut it = row.into_iter();
                let kind = stored("kind", &it.next().and_then(Value::text).unwrap_or_default())?;
                let details =
                    serde_json::from_str(&it.next().and_then(Value::text).unwrap_or_default())
                        .map_err(|e| StoreError::Corrupt(format!("details: {e}")))?;
                Ok((kind, details))
            })
            .collect()
    }

    /// How many mails are in quarantine, received since `since`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantined_since(&self, since: i64) -> Result<i64, StoreError> {
        let rows = self
            .query(
                "SELECT COUNT(*) FROM mail_quarantine WHERE received_at >= $1",
                vec![int(since)],
                &[Kind::Int],
            )
            .await?;
        Ok(scalar(rows).and_then(Value::int).unwrap_or(0))
    }

    /// One mail.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mail(&self, id: &str) -> Result<Option<MailRecord>, StoreError> {
        Ok(self
            .mails_where("id = $1", vec![text(id)])
            .await?
            .into_iter()
            .next())
    }

    /// Takes the outgoing mail due first, holding it until `lease_until`
    /// and counting the attempt, as the handoff outbox does.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<MailRecord>, StoreError> {
        let lock = if matches!(self.backend, Backend::Postgres(_)) {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE mails SET next_attempt_at = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id = (SELECT id FROM mails WHERE direction = 'out' AND status = 'pending' \
             AND next_attempt_at <= $2 ORDER BY next_attempt_at, created_at LIMIT 1{lock}) \
             RETURNING {MAIL_COLUMNS}"
        );
        let rows = self
            .query(&sql, vec![int(lease_until), int(now)], &MAIL_KINDS)
            .await;
        self.note_write(&rows);
        rows?.into_iter().next().map(mail_record).transpose()
    }

    /// Records the outcome of a sending attempt, if the caller still holds
    /// the mail at `attempt`: sent, retried at `next`, or dead. Returns
    /// whether it did.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mail_outcome(
        &self,
        id: &str,
        attempt: i64,
        outcome: MailOutcome<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (status, next, error) = match outcome {
            MailOutcome::Sent => (MailStatus::Sent, None, None),
            MailOutcome::Retry { at, error } => (MailStatus::Pending, Some(at), Some(error)),
            MailOutcome::Dead { error } => (MailStatus::Dead, None, Some(error)),
        };
        let changed = self
            .exec(
                "UPDATE mails SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 last_error = $3, updated_at = $4 \
                 WHERE id = $5 AND status = 'pending' AND attempts = $6",
                vec![
                    text(status.as_str()),
                    Value::Int(next),
                    opt(error),
                    int(now),
                    text(id),
                    int(attempt),
                ],
            )
            .await?;
        Ok(changed > 0)
    }

    /// Puts a dead mail, or one held for want of a relay, back in the
    /// outbox, due now.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn requeue_mail(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let changed = self
            .exec(
                "UPDATE mails SET status = 'pending', attempts = 0, next_attempt_at = $1, \
                 updated_at = $1 WHERE id = $2 AND status IN ('dead', 'held')",
                vec![int(now), text(id)],
            )
            .await?;
        Ok(changed > 0)
    }

    /// Keeps a mail that could not be decoded, as it came.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantine(
        &self,
        id: &str,
        reason: &str,
        raw: &[u8],
        at: i64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO mail_quarantine (id, reason, raw, size, received_at) \
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                text(id),
                text(reason),
                Value::Bytes(raw.to_vec()),
                int(i64::try_from(raw.len()).unwrap_or(i64::MAX)),
                int(at),
            ],
        )
        .await
        .map(|_| ())
    }

    /// The quarantined mails, newest first.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantined(&self, limit: i64) -> Result<Vec<QuarantinedMail>, StoreError> {
        let rows = self
            .query(
                "SELECT id, reason, size, received_at FROM mail_quarantine \
                 ORDER BY received_at DESC, id DESC LIMIT $1",
                vec![int(limit)],
                &[Kind::Text, Kind::Text, Kind::Int, Kind::Int],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut it = row.into_iter();
                let mut next = || it.next().unwrap_or(Value::Text(None));
                QuarantinedMail {
                    id: next().text().unwrap_or_default(),
                    reason: next().text().unwrap_or_default(),
                    size: next().int().unwrap_or_default(),
                    received_at: next().int().unwrap_or_default(),
                }
            })
            .collect())
    }

    /// A quarantined mail's bytes, as they came.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn quarantined_raw(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self
            .query(
                "SELECT raw FROM mail_quarantine WHERE id = $1",
                vec![text(id)],
                &[Kind::Bytes],
            )
            .await?;
        Ok(scalar(rows).map(Value::bytes))
    }

    /// Notes that mail to `address` failed for good: none is sent to it
    /// before `until`.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn bounced(&self, address: &str, reason: &str, until: i64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO mail_bounces (address, reason, until) VALUES ($1, $2, $3) \
             ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, until = excluded.until",
            vec![text(address), text(reason), int(until)],
        )
        .await
        .map(|_| ())
    }

    /// Until when `address` is not mailed (after a bounce), if it is not
    /// now.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn bounced_until(&self, address: &str, now: i64) -> Result<Option<i64>, StoreError> {
        let rows = self
            .query(
                "SELECT until FROM mail_bounces WHERE address = $1 AND until > $2",
                vec![text(address), int(now)],
                &[Kind::Int],
            )
            .await?;
        Ok(scalar(rows).and_then(Value::int))
    }

    /// Forgets the mail of a customer's address kept outside their
    /// conversations, and its bounce hold.
    pub(super) async fn forget_mail_of(&self, customer_id: &str) -> Result<(), StoreError> {
        let address = "(SELECT email FROM customers WHERE id = $1)";
        self.exec(
            &format!(
                "DELETE FROM mails WHERE conversation_id IS NULL \
                 AND (sender = {address} OR recipient = {address})"
            ),
            vec![text(customer_id)],
        )
        .await?;
        self.exec(
            &format!("DELETE FROM mail_bounces WHERE address = {address}"),
            vec![text(customer_id)],
        )
        .await?;
        Ok(())
    }

    /// Forgets mail kept outside conversations (suppressed mail,
    /// quarantine, old bounces) from before `before`.
    pub(super) async fn purge_mail_before(&self, before: i64) -> Result<(), StoreError> {
        self.exec(
            "DELETE FROM mails WHERE conversation_id IS NULL AND created_at < $1",
            vec![int(before)],
        )
        .await?;
        self.exec(
            "DELETE FROM mail_quarantine WHERE received_at < $1",
            vec![int(before)],
        )
        .await?;
        self.exec(
            "DELETE FROM mail_bounces WHERE until < $1",
            vec![int(before)],
        )
        .await?;
        Ok(())
    }
}

/// The outcome of an attempt to send a mail.
#[derive(Debug, Clone, Copy)]
pub enum MailOutcome<'a> {
    /// The relay took it.
    Sent,
    /// Failed; try again at `at`.
    Retry {
        /// When (milliseconds).
        at: i64,
        /// What went wrong.
        error: &'a str,
    },
    /// Failed for good.
    Dead {
        /// What went wrong.
        error: &'a str,
    },
}

impl StoreError {
    /// Whether this is a unique-key violation: the same inbound
    /// Message-ID, taken by a racing delivery.
    #[must_use]
    pub fn is_duplicate(&self) -> bool {
        is_duplicate(self)
    }
}

fn is_duplicate(err: &StoreError) -> bool {
    match err {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
            f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        }
        StoreError::Database(sqlx::Error::Database(e)) => e.code().as_deref() == Some("23505"),
        _ => false,
    }
}
