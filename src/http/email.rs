//! The e-mail channel's HTTP ways in: `POST /v1/email/inbound` for an MTA
//! pipe or an inbound-mail provider (one raw RFC 5322 message per request,
//! behind its own secret and size limit, outside the chat API's
//! per-address rate limits), and the agent API's views of mail: the
//! quarantine and the mail outbox's dead letters.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::Admin;
use super::auth::bearer;
use super::error::{ApiQuery, Code};
use super::{ApiError, AppState};
use crate::channels::email::{Inbox, Receipt};
use crate::secret::same_secret;
use crate::store::{MailKind, MailStatus};

/// The inbound route, with its own body limit.
pub(super) fn inbound_routes(max_bytes: usize) -> Router<AppState> {
    Router::new().route(
        "/v1/email/inbound",
        post(inbound).layer(DefaultBodyLimit::max(max_bytes)),
    )
}

/// The agent API's mail routes.
pub(super) fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/email/quarantine", get(quarantine))
        .route("/v1/admin/email/quarantine/{id}", get(quarantined))
        .route("/v1/admin/email/outbox", get(outbox))
        .route("/v1/admin/email/stats", get(stats))
        .route("/v1/admin/email/outbox/{id}/retry", post(retry))
}

fn inbox(state: &AppState) -> Result<&Inbox, ApiError> {
    state.inbox.as_ref().ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            "the e-mail channel is off: set `email_from` in the configuration",
        )
    })
}

/// The media types a raw message may come as.
const RAW_TYPES: &[&str] = &["message/rfc822", "application/octet-stream", "text/plain"];

/// A request with the inbound secret: checked from the request's head,
/// before a body of up to `email_max_bytes` is read.
struct InboundSender;

impl FromRequestParts<AppState> for InboundSender {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        inbox(state)?;
        let token = bearer(&parts.headers)?;
        let expected = state
            .settings
            .email_inbound_secret
            .as_ref()
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "inbound mail is disabled: set `email_inbound_secret` in the configuration",
                )
            })?;
        if same_secret(token, expected.expose()) {
            Ok(InboundSender)
        } else {
            Err(ApiError::unauthorized("wrong inbound mail secret"))
        }
    }
}

async fn inbound(
    State(state): State<AppState>,
    _sender: InboundSender,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let inbox = inbox(&state)?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !media.as_deref().is_some_and(|m| RAW_TYPES.contains(&m)) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the raw message as `Content-Type: message/rfc822`",
        ));
    }
    if body.is_empty() {
        return Err(ApiError::new(Code::Empty, "the message is empty"));
    }
    let receipt = inbox.receive(&body, jiff::Timestamp::now()).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt_json(&receipt))))
}

/// What the sender of a mail learns: its outcome, and where it went.
pub fn receipt_json(receipt: &Receipt) -> serde_json::Value {
    let mut body = serde_json::json!({ "outcome": receipt.outcome() });
    match receipt {
        Receipt::Taken {
            conversation,
            not_answered,
            escalated,
        } => {
            body["conversation"] = conversation.as_str().into();
            body["answered"] = not_answered.is_none().into();
            if let Some(why) = not_answered {
                body["not_answered"] = (*why).into();
            }
            body["escalated"] = (*escalated).into();
        }
        Receipt::NotAnswered { reason } => body["not_answered"] = (*reason).into(),
        Receipt::Bounce { conversation } => {
            body["conversation"] = conversation.as_deref().into();
        }
        Receipt::Duplicate => {}
        Receipt::Quarantined { id, reason } => {
            body["quarantine"] = id.as_str().into();
            body["reason"] = reason.as_str().into();
        }
    }
    body
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
    status: Option<String>,
}

impl ListQuery {
    fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=500) => Ok(n),
            Some(_) => Err(ApiError::new(
                Code::OutOfRange,
                "`limit` must be from 1 to 500",
            )),
        }
    }
}

async fn quarantine(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let found = state.store.quarantined(query.limit()?).await?;
    Ok(Json(serde_json::json!({ "quarantine": found })))
}

async fn quarantined(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let raw = state
        .store
        .quarantined_raw(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("quarantined mail"))?;
    Ok(([(header::CONTENT_TYPE, "message/rfc822")], raw))
}

async fn outbox(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let status = match query.status.as_deref().unwrap_or("dead") {
        "dead" => MailStatus::Dead,
        "pending" => MailStatus::Pending,
        "held" => MailStatus::Held,
        "sent" => MailStatus::Sent,
        other => {
            return Err(ApiError::new(
                Code::Invalid,
                format!("`status` `{other}` is none of dead, pending, held, sent"),
            ));
        }
    };
    let found = state.store.mails_in(status, query.limit()?).await?;
    Ok(Json(serde_json::json!({ "mails": found })))
}

async fn retry(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let inbox = inbox(&state)?;
    if !state
        .store
        .requeue_mail(&id, jiff::Timestamp::now().as_millisecond())
        .await?
    {
        return Err(ApiError::new(
            Code::MailNotDead,
            "no dead or held mail with this id: only those are sent again",
        ));
    }
    inbox.wake.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "id": id, "status": "pending" })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    /// Counted from here (RFC 3339); the last 24 hours by default.
    since: Option<String>,
}

/// What came into the inbox over a period: mails taken and answered, not
/// answered by reason (the header or limit that decided), bounces,
/// quarantined.
async fn stats(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let now = jiff::Timestamp::now();
    let since = match query.since.as_deref() {
        Some(since) => since.parse::<jiff::Timestamp>().map_err(|e| {
            ApiError::new(
                Code::Invalid,
                format!("`since` is not an RFC 3339 time: {e}"),
            )
        })?,
        None => now
            .checked_sub(jiff::SignedDuration::from_hours(24))
            .unwrap_or(now),
    };
    let received = state
        .store
        .mails_received_since(since.as_millisecond())
        .await?;
    let mut not_answered = std::collections::BTreeMap::<String, u64>::new();
    let (mut taken, mut answered, mut bounces) = (0u64, 0u64, 0u64);
    for (kind, details) in &received {
        match kind {
            MailKind::Bounce => bounces += 1,
            MailKind::Customer if details.not_answered.is_none() => {
                taken += 1;
                answered += 1;
            }
            MailKind::Customer => taken += 1,
            _ => {}
        }
        if let Some(reason) = &details.not_answered {
            *not_answered.entry(reason.clone()).or_default() += 1;
        }
    }
    let quarantined = state
        .store
        .quarantined_since(since.as_millisecond())
        .await?;
    Ok(Json(serde_json::json!({
        "since": since.to_string(),
        "received": received.len(),
        "taken": taken,
        "answered": answered,
        "not_answered": not_answered,
        "bounces": bounces,
        "quarantined": quarantined,
    })))
}
