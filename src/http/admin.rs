//! The agent API, behind the admin bearer token: the conversations waiting
//! for a person, each with everything the bot collected, and the person's
//! answers, delivered live to the customer.

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Json};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

use super::auth::bearer;
use super::error::{ApiJson, ApiQuery, Code};
use super::{ApiError, AppState};
use crate::channels::chat::{TranscriptQuery, checked_text, next_after};
use crate::conversation::{self, rfc3339};
use crate::engine::{ConversationState, Status};
use crate::rules::Channel;
use crate::secret::same_secret;
use crate::store::{
    ConversationSummary, Cursor, EarlierConversation, HandoffRecord, HandoffStatus, Identity,
    MessageRecord, StoreError, StoredDecision,
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/conversations", get(list))
        .route("/v1/admin/conversations/{id}", get(show))
        .route("/v1/admin/conversations/{id}/messages", post(reply))
        .route("/v1/admin/conversations/{id}/close", post(close))
        .route("/v1/admin/customers/{id}", delete(delete_customer))
        .route("/v1/admin/handoffs", get(handoffs))
        .route("/v1/admin/handoffs/{id}", get(handoff))
        .route("/v1/admin/handoffs/{id}/retry", post(retry_handoff))
        .route("/v1/admin/rules/reload", post(reload_rules))
}

/// A request of the agent API with the admin token: checked from the
/// request's head, before its body or query is read.
pub(super) struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?;
        let expected = state.settings.admin_token.as_ref().ok_or_else(|| {
            ApiError::unauthorized(
                "the agent API is disabled: set `admin_token` in the configuration",
            )
        })?;
        if same_secret(token, expected.expose()) {
            Ok(Admin)
        } else {
            Err(ApiError::unauthorized("wrong admin token"))
        }
    }
}

/// A listing's `limit`: 50 unless given, at most 500.
pub(super) fn limit(given: Option<i64>) -> Result<i64, ApiError> {
    let limit = given.unwrap_or(50);
    if (1..=500).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::new(
            Code::OutOfRange,
            "`limit` must be from 1 to 500",
        ))
    }
}

/// A listing's `after`: the `next` of the page before.
pub(super) fn cursor(given: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    given
        .map(str::parse::<Cursor>)
        .transpose()
        .map_err(ApiError::invalid)
}

/// The `next` of a page: where the one after starts, when this one is full.
pub(super) fn next_page<T>(
    page: &[T],
    limit: i64,
    cursor: impl Fn(&T) -> Cursor,
) -> Option<String> {
    i64::try_from(page.len())
        .is_ok_and(|n| n == limit)
        .then(|| page.last().map(|last| cursor(last).to_string()))
        .flatten()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

#[derive(Debug, Serialize)]
struct ListResponse {
    conversations: Vec<Listed>,
    /// The `after` of the next page, when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Debug, Serialize)]
struct Listed {
    #[serde(flatten)]
    summary: ConversationSummary,
    created_at: String,
    updated_at: String,
}

async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse>, ApiError> {
    let status = query
        .state
        .as_deref()
        .map(str::parse::<Status>)
        .transpose()
        .map_err(|e| ApiError::new(Code::UnknownFilter, e))?;
    let limit = limit(query.limit)?;
    let after = cursor(query.after.as_deref())?;
    let found = state.store.list(status, after.as_ref(), limit).await?;
    let next = next_page(&found, limit, |c| Cursor {
        at: c.updated_at,
        id: c.id.clone(),
    });
    Ok(Json(ListResponse {
        next,
        conversations: found
            .into_iter()
            .map(|summary| Listed {
                created_at: rfc3339(summary.created_at),
                updated_at: rfc3339(summary.updated_at),
                summary,
            })
            .collect(),
    }))
}

#[derive(Debug, Serialize)]
struct Customer {
    id: String,
    name: Option<String>,
    email: Option<String>,
    external_id: Option<String>,
    identity: Identity,
    verified: bool,
}

#[derive(Debug, Serialize)]
struct AgentMessage {
    #[serde(flatten)]
    message: MessageRecord,
    at: String,
    /// The decision behind a customer message: intent, evidence,
    /// sentiment and cues, action, escalation.
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<StoredDecision<'static>>,
}

#[derive(Debug, Serialize)]
struct Earlier {
    #[serde(flatten)]
    conversation: EarlierConversation,
    created_at: String,
    verified: bool,
}

#[derive(Debug, Serialize)]
struct ConversationDetail {
    id: String,
    channel: Channel,
    state: Status,
    summary: Option<String>,
    customer: Customer,
    /// The engine's state: details collected, handoff reason and priority,
    /// frustration.
    dialogue: ConversationState,
    messages: Vec<AgentMessage>,
    /// The `after` of the next page of messages, when this one is full.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<i64>,
    earlier_conversations: Vec<Earlier>,
    /// An e-mail conversation's mails, in and out: each inbound mail's
    /// whole decoded body beside the text that was classified, its
    /// attachments, and why it was not answered when it was not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mails: Vec<crate::store::MailRecord>,
    created_at: String,
    updated_at: String,
}

async fn show(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<TranscriptQuery>,
) -> Result<Json<ConversationDetail>, ApiError> {
    let (after, limit) = query.page()?;
    let conversation = state
        .store
        .conversation(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    let messages = state.store.transcript_page(&id, after, limit).await?;
    let next = next_after(&messages, limit);
    let earlier = state
        .store
        .earlier_conversations(&conversation.customer_id, &id)
        .await?;
    let email = conversation.customer_email().map(str::to_owned);
    let mails = if conversation.channel == Channel::Email {
        state.store.conversation_mails(&id).await?
    } else {
        Vec::new()
    };
    Ok(Json(ConversationDetail {
        mails,
        id: conversation.id,
        channel: conversation.channel,
        state: conversation.state.status,
        summary: conversation.summary,
        customer: Customer {
            id: conversation.customer_id,
            name: conversation.name,
            email,
            external_id: conversation.external_id,
            identity: conversation.identity,
            verified: conversation.identity == Identity::Verified,
        },
        dialogue: conversation.state,
        messages: messages
            .into_iter()
            .map(|message| {
                Ok(AgentMessage {
                    at: rfc3339(message.created_at),
                    decision: message.decision()?,
                    message,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        next,
        earlier_conversations: earlier
            .into_iter()
            .map(|conversation| Earlier {
                created_at: rfc3339(conversation.created_at),
                verified: conversation.identity == Identity::Verified,
                conversation,
            })
            .collect(),
        created_at: rfc3339(conversation.created_at),
        updated_at: rfc3339(conversation.updated_at),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyRequest {
    text: String,
    agent: String,
}

async fn reply(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReplyRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let text = checked_text(&request.text, "text", state.settings.max_message_chars)?;
    let agent = request.agent.trim();
    if agent.is_empty() {
        return Err(ApiError::new(
            Code::Empty,
            "`agent` is empty: say who answers",
        ));
    }
    let conversation = state
        .store
        .conversation(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    let answer_by_mail = match (&state.inbox, conversation.channel) {
        (Some(inbox), Channel::Email) => {
            let mails = state.store.conversation_mails(&conversation.id).await?;
            crate::channels::email::inbound::agent_reply(&inbox.settings, &conversation.id, &mails)
        }
        _ => None,
    };
    let agent_name = agent.to_owned();
    let seq = conversation::agent_message_with(
        &state.store,
        &state.events,
        conversation,
        agent,
        text,
        jiff::Timestamp::now(),
        &move |text| {
            answer_by_mail
                .as_ref()
                .map(|reply| reply(&agent_name, text))
                .into_iter()
                .collect()
        },
    )
    .await?;
    if let Some(inbox) = &state.inbox {
        inbox.wake.notify_one();
    }
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "seq": seq, "state": Status::HandedOff })),
    ))
}

async fn close(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let conversation = state
        .store
        .conversation(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    conversation::close(
        &state.store,
        &state.events,
        conversation,
        jiff::Timestamp::now(),
    )
    .await?;
    Ok(Json(
        serde_json::json!({ "id": id, "state": Status::Closed }),
    ))
}

async fn delete_customer(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.delete_customer(&id).await? {
        tracing::info!(customer = %id, "customer deleted on request");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("customer"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoffQuery {
    status: Option<String>,
    limit: Option<i64>,
    after: Option<String>,
}

#[derive(Debug, Serialize)]
struct ListedHandoff {
    #[serde(flatten)]
    handoff: HandoffRecord,
    created_at: String,
    updated_at: String,
    next_attempt_at: Option<String>,
}

impl From<HandoffRecord> for ListedHandoff {
    fn from(handoff: HandoffRecord) -> Self {
        ListedHandoff {
            created_at: rfc3339(handoff.created_at),
            updated_at: rfc3339(handoff.updated_at),
            next_attempt_at: (handoff.status == HandoffStatus::Pending)
                .then(|| rfc3339(handoff.next_attempt_at)),
            handoff,
        }
    }
}

/// `GET /v1/admin/handoffs?status=dead`: the outbox, with the count of
/// handoffs in each status.
async fn handoffs(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<HandoffQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status = query
        .status
        .as_deref()
        .map(str::parse::<HandoffStatus>)
        .transpose()
        .map_err(|e| ApiError::new(Code::UnknownFilter, e))?;
    let limit = limit(query.limit)?;
    let after = cursor(query.after.as_deref())?;
    let page = state
        .store
        .handoffs_page(status, after.as_ref(), limit)
        .await?;
    let next = next_page(&page, limit, |h| Cursor {
        at: h.created_at,
        id: h.id.clone(),
    });
    let found: Vec<ListedHandoff> = page.into_iter().map(ListedHandoff::from).collect();
    let mut counts = serde_json::Map::new();
    for status in [
        HandoffStatus::Pending,
        HandoffStatus::Delivered,
        HandoffStatus::Dead,
    ] {
        counts.insert(status.as_str().to_owned(), 0.into());
    }
    for (status, n) in state.store.handoff_counts().await? {
        counts.insert(status.as_str().to_owned(), n.into());
    }
    Ok(Json(
        serde_json::json!({ "handoffs": found, "counts": counts, "next": next }),
    ))
}

async fn handoff(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let handoff = state
        .store
        .handoff(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("handoff"))?;
    let payload: Option<serde_json::Value> = handoff
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok());
    let mut body = serde_json::to_value(ListedHandoff::from(handoff))
        .map_err(|e| ApiError::new(Code::Internal, e.to_string()))?;
    body["payload"] = payload.unwrap_or(serde_json::Value::Null);
    Ok(Json(body))
}

/// `POST /v1/admin/handoffs/{id}/retry`: a dead handoff back in the outbox,
/// due now, its schedule started over.
async fn retry_handoff(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let now = jiff::Timestamp::now().as_millisecond();
    if state.store.requeue_handoff(&id, now).await? {
        tracing::info!(handoff = %id, "dead handoff retried by hand");
        state.outbox.notify_one();
        return Ok(Json(
            serde_json::json!({ "id": id, "status": HandoffStatus::Pending }),
        ));
    }
    match state.store.handoff(&id).await? {
        None => Err(ApiError::not_found("handoff")),
        Some(h) => Err(ApiError::new(
            Code::HandoffNotDead,
            format!(
                "handoff {id} is {}, not dead: only dead handoffs are retried by hand",
                h.status.as_str()
            ),
        )),
    }
}

/// `POST /v1/admin/rules/reload`: the rules read again from their files,
/// checked, and put in force; 422 `rules_invalid` with every problem when
/// they do not load (the rules in force keep serving).
async fn reload_rules(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<serde_json::Value>, ApiError> {
    match state.reloader.reload("api").await {
        Ok(reloaded) => Ok(Json(serde_json::json!({
            "version": reloaded.version,
            "previous": reloaded.previous,
            "changed": reloaded.changed(),
            "intents": reloaded.intents,
            "warnings": reloaded
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        }))),
        Err(err @ crate::check::ReloadError::Failed(_)) => {
            tracing::error!(error = %err, "rules reload failed");
            Err(ApiError::new(
                Code::Internal,
                "the reload failed inside; the rules in force keep serving",
            ))
        }
        Err(err) => {
            let errors: Vec<serde_json::Value> = err
                .errors()
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "path": &*d.location.path,
                        "line": d.location.line,
                        "column": d.location.column,
                        "message": d.message,
                    })
                })
                .collect();
            Err(ApiError::new(
                Code::RulesInvalid,
                format!(
                    "the rules at {} do not load; the rules in force keep serving",
                    state.reloader.path().display()
                ),
            )
            .with_errors(serde_json::Value::Array(errors)))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_shown_in_rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
