//! The e-mail channel's HTTP ways in: `POST /v1/email/inbound` for an MTA
//! pipe or an inbound-mail provider (one raw RFC 5322 message per request,
//! behind its own secret and size limit, outside the chat API's
//! per-address rate limits), and the agent API's views of mail: the
//! quarantine and the mail outbox's dead letters.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::{ADMIN, Admin};
use super::auth::bearer;
use super::error::{ApiQuery, Code, QUERY, STORE};
use super::{ApiError, AppState};
use crate::channels::email::{Inbox, Receipt};
use crate::secret::same_secret;
use crate::store::{MailKind, MailStatus, QuarantinedMail};

/// The inbound route, with its own body limit.
pub(super) fn inbound_routes(max_bytes: usize) -> OpenApiRouter<AppState> {
    let (schemas, paths, method_router) = routes!(inbound);
    OpenApiRouter::new().routes((
        schemas,
        paths,
        method_router.layer(DefaultBodyLimit::max(max_bytes)),
    ))
}

/// The agent API's mail routes.
pub(super) fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(quarantine))
        .routes(routes!(quarantined))
        .routes(routes!(outbox))
        .routes(routes!(stats))
        .routes(routes!(retry))
}

/// What `inbox` refuses with when the e-mail channel is off.
const INBOX_OFF: &[Code] = &[Code::NotFound];

/// What [`InboundSender`] refuses with.
const INBOUND_SENDER: &[Code] = &[Code::NotFound, Code::Unauthorized];

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

api_errors!(
    /// `POST /v1/email/inbound`.
    InboundErrors = INBOUND_SENDER,
    &[Code::UnsupportedMediaType, Code::Empty],
    STORE,
);

/// One raw RFC 5322 message, from an MTA pipe or an inbound-mail
/// provider: taken into its conversation and answered, or not answered
/// (with the reason), or quarantined.
#[utoipa::path(post, path = "/v1/email/inbound", tag = "email",
    request_body(content = String, content_type = "message/rfc822",
        description = "The raw message, as received (also taken as \
            `application/octet-stream` or `text/plain`)."),
    responses(
        (status = 202, description = "Received: `outcome` says what became of it; \
            `conversation`, `answered`, `not_answered`, `escalated`, `quarantine` and \
            `reason` as they apply.", body = Object),
        (status = 413, description = "The message is larger than `email_max_bytes` \
            (a plain-text answer).", content_type = "text/plain", body = String),
        InboundErrors
    ),
    security(("inbound_secret" = [])))]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// At most this many, 1 to 500 (100).
    limit: Option<i64>,
    /// The outbox only: `dead` (the default), `pending`, `held` or `sent`.
    status: Option<String>,
}

/// The quarantine.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Quarantine {
    quarantine: Vec<QuarantinedMail>,
}

/// Mails of the outbox in one status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Mails {
    #[schema(value_type = Vec<Object>)]
    mails: Vec<crate::store::MailRecord>,
}

/// A mail back in the outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct MailRequeued {
    /// The mail's id.
    id: String,
    /// `pending`.
    status: &'static str,
}

/// What came into the inbox over a period.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct MailStats {
    /// From when (RFC 3339).
    since: String,
    /// Mails received.
    received: usize,
    /// Customer mails taken into a conversation.
    taken: u64,
    /// Of those, answered.
    answered: u64,
    /// Not answered, by reason.
    not_answered: std::collections::BTreeMap<String, u64>,
    /// Bounces.
    bounces: u64,
    /// Quarantined.
    quarantined: i64,
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

api_errors!(
    /// The mail listings.
    ListErrors = ADMIN,
    QUERY,
    &[Code::OutOfRange],
    STORE,
);

/// The mails that could not be taken, the newest first.
#[utoipa::path(get, path = "/v1/admin/email/quarantine", tag = "email", params(ListQuery),
    responses((status = 200, description = "The quarantine.", body = Quarantine), ListErrors),
    security(("admin_token" = [])))]
async fn quarantine(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Quarantine>, ApiError> {
    let quarantine = state.store.quarantined(query.limit()?).await?;
    Ok(Json(Quarantine { quarantine }))
}

api_errors!(
    /// `GET /v1/admin/email/quarantine/{id}`.
    QuarantinedErrors = ADMIN,
    &[Code::NotFound],
    STORE,
);

/// A quarantined mail, raw, as it came.
#[utoipa::path(get, path = "/v1/admin/email/quarantine/{id}", tag = "email",
    params(("id" = String, Path, description = "The quarantined mail's id.")),
    responses((status = 200, description = "The raw message.", content_type = "message/rfc822",
        body = String), QuarantinedErrors),
    security(("admin_token" = [])))]
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

/// The mail outbox in one status (`dead` unless asked).
#[utoipa::path(get, path = "/v1/admin/email/outbox", tag = "email", params(ListQuery),
    responses((status = 200, description = "The mails.", body = Mails), ListErrors),
    security(("admin_token" = [])))]
async fn outbox(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Mails>, ApiError> {
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
    let mails = state.store.mails_in(status, query.limit()?).await?;
    Ok(Json(Mails { mails }))
}

api_errors!(
    /// `POST /v1/admin/email/outbox/{id}/retry`.
    RetryErrors = ADMIN,
    INBOX_OFF,
    &[Code::MailNotDead],
    STORE,
);

/// A dead or held mail sent again.
#[utoipa::path(post, path = "/v1/admin/email/outbox/{id}/retry", tag = "email",
    params(("id" = String, Path, description = "The mail's id.")),
    responses((status = 202, description = "Back in the outbox.", body = MailRequeued), RetryErrors),
    security(("admin_token" = [])))]
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
        Json(MailRequeued {
            id,
            status: "pending",
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    /// Counted from here (RFC 3339); the last 24 hours by default.
    since: Option<String>,
}

api_errors!(
    /// `GET /v1/admin/email/stats`.
    StatsErrors = ADMIN,
    QUERY,
    STORE,
);

/// What came into the inbox over a period: mails taken and answered, not
/// answered by reason (the header or limit that decided), bounces,
/// quarantined.
#[utoipa::path(get, path = "/v1/admin/email/stats", tag = "email", params(StatsQuery),
    responses((status = 200, description = "The counts.", body = MailStats), StatsErrors),
    security(("admin_token" = [])))]
async fn stats(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> Result<Json<MailStats>, ApiError> {
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
    Ok(Json(MailStats {
        since: since.to_string(),
        received: received.len(),
        taken,
        answered,
        not_answered,
        bounces,
        quarantined,
    }))
}
