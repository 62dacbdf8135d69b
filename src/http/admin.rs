//! The agent API, behind the admin bearer token: the conversations waiting
//! for a person, each with everything the bot collected, and the person's
//! answers, delivered live to the customer.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Json};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::bearer;
use super::error::{ApiJson, ApiQuery, Code, JSON_BODY, MESSAGE, QUERY, STORE};
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

/// The agent API's routes, each with its part of the `OpenAPI` document.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(reply))
        .routes(routes!(close))
        .routes(routes!(delete_customer))
        .routes(routes!(handoffs))
        .routes(routes!(handoff))
        .routes(routes!(retry_handoff))
        .routes(routes!(reload_rules))
}

/// What [`Admin`] refuses with: no token, the wrong one, or no
/// `admin_token` configured.
pub(super) const ADMIN: &[Code] = &[Code::Unauthorized];

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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only conversations in this state (`bot`, `handed_off`, `closed`...).
    state: Option<String>,
    /// At most this many, 1 to 500 (50).
    limit: Option<i64>,
    /// The `next` of the page before.
    after: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ListResponse {
    conversations: Vec<Listed>,
    /// The `after` of the next page, when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Listed {
    #[serde(flatten)]
    summary: ConversationSummary,
    /// RFC 3339.
    created_at: String,
    updated_at: String,
}

api_errors!(
    /// `GET /v1/admin/conversations`.
    ListErrors = ADMIN,
    QUERY,
    &[Code::UnknownFilter, Code::OutOfRange],
    STORE,
);

/// The conversations, the most recently changed first, a page at a time.
#[utoipa::path(get, path = "/v1/admin/conversations", tag = "agent", params(ListQuery),
    responses((status = 200, description = "A page of conversations.", body = ListResponse), ListErrors),
    security(("admin_token" = [])))]
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Customer {
    id: String,
    name: Option<String>,
    email: Option<String>,
    external_id: Option<String>,
    identity: Identity,
    verified: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct AgentMessage {
    #[serde(flatten)]
    message: MessageRecord,
    at: String,
    /// The decision behind a customer message: intent, evidence,
    /// sentiment and cues, action, escalation.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    decision: Option<StoredDecision<'static>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Earlier {
    #[serde(flatten)]
    conversation: EarlierConversation,
    created_at: String,
    verified: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ConversationDetail {
    id: String,
    channel: Channel,
    state: Status,
    summary: Option<String>,
    customer: Customer,
    /// The engine's state: details collected, handoff reason and priority,
    /// frustration.
    #[schema(value_type = Object)]
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
    #[schema(value_type = Vec<Object>)]
    mails: Vec<crate::store::MailRecord>,
    created_at: String,
    updated_at: String,
}

api_errors!(
    /// `GET /v1/admin/conversations/{id}`.
    ShowErrors = ADMIN,
    QUERY,
    &[Code::OutOfRange, Code::NotFound],
    STORE,
);

/// One conversation with everything the bot collected: the customer, the
/// engine's state, the messages with their decisions, earlier
/// conversations, and an e-mail conversation's mails.
#[utoipa::path(get, path = "/v1/admin/conversations/{id}", tag = "agent",
    params(("id" = String, Path, description = "The conversation's id."),
        crate::channels::chat::TranscriptQuery),
    responses((status = 200, description = "The conversation.", body = ConversationDetail), ShowErrors),
    security(("admin_token" = [])))]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReplyRequest {
    /// What the agent says.
    text: String,
    /// Who answers.
    agent: String,
}

/// An agent's message, written.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Replied {
    /// Its place in the conversation.
    seq: i64,
    /// The conversation's state afterwards (`handed_off`).
    state: Status,
}

api_errors!(
    /// `POST /v1/admin/conversations/{id}/messages`.
    ReplyErrors = ADMIN,
    JSON_BODY,
    &[Code::TooLong, Code::Empty],
    MESSAGE,
);

/// An agent's answer, delivered live to the customer (and by mail in an
/// e-mail conversation).
#[utoipa::path(post, path = "/v1/admin/conversations/{id}/messages", tag = "agent",
    params(("id" = String, Path, description = "The conversation's id.")),
    request_body = ReplyRequest,
    responses((status = 201, description = "Written.", body = Replied), ReplyErrors),
    security(("admin_token" = [])))]
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
        Json(Replied {
            seq,
            state: Status::HandedOff,
        }),
    ))
}

/// A conversation closed, or an item retried: its id and where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Closed {
    /// The conversation's id.
    id: String,
    /// `closed`.
    state: Status,
}

api_errors!(
    /// `POST /v1/admin/conversations/{id}/close`.
    CloseErrors = ADMIN,
    MESSAGE,
);

/// Closes a conversation.
#[utoipa::path(post, path = "/v1/admin/conversations/{id}/close", tag = "agent",
    params(("id" = String, Path, description = "The conversation's id.")),
    responses((status = 200, description = "Closed.", body = Closed), CloseErrors),
    security(("admin_token" = [])))]
async fn close(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Closed>, ApiError> {
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
    Ok(Json(Closed {
        id,
        state: Status::Closed,
    }))
}

api_errors!(
    /// `DELETE /v1/admin/customers/{id}`.
    DeleteErrors = ADMIN,
    &[Code::NotFound],
    STORE,
);

/// Deletes a customer and everything kept about them.
#[utoipa::path(delete, path = "/v1/admin/customers/{id}", tag = "agent",
    params(("id" = String, Path, description = "The customer's id.")),
    responses((status = 204, description = "Deleted."), DeleteErrors),
    security(("admin_token" = [])))]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HandoffQuery {
    /// Only handoffs in this status (`pending`, `delivered`, `dead`).
    status: Option<String>,
    /// At most this many, 1 to 500 (50).
    limit: Option<i64>,
    /// The `next` of the page before.
    after: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct ListedHandoff {
    #[serde(flatten)]
    handoff: HandoffRecord,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339.
    updated_at: String,
    /// When a pending handoff is tried next (RFC 3339).
    next_attempt_at: Option<String>,
}

/// A page of the outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct HandoffsPage {
    handoffs: Vec<ListedHandoff>,
    /// How many handoffs are in each status.
    counts: std::collections::BTreeMap<&'static str, i64>,
    /// The `after` of the next page, when there may be one.
    next: Option<String>,
}

/// A handoff with the body sent for it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct HandoffDetail {
    #[serde(flatten)]
    handoff: ListedHandoff,
    /// The body sent to the ticket system, once built.
    #[schema(value_type = Option<Object>)]
    payload: Option<serde_json::Value>,
}

/// A handoff back in the outbox.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Requeued {
    /// The handoff's id.
    id: String,
    /// `pending`.
    status: HandoffStatus,
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

api_errors!(
    /// `GET /v1/admin/handoffs`.
    HandoffsErrors = ADMIN,
    QUERY,
    &[Code::UnknownFilter, Code::OutOfRange],
    STORE,
);

/// `GET /v1/admin/handoffs?status=dead`: the outbox, with the count of
/// handoffs in each status.
#[utoipa::path(get, path = "/v1/admin/handoffs", tag = "agent", params(HandoffQuery),
    responses((status = 200, description = "A page of handoffs.", body = HandoffsPage), HandoffsErrors),
    security(("admin_token" = [])))]
async fn handoffs(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<HandoffQuery>,
) -> Result<Json<HandoffsPage>, ApiError> {
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
    let mut counts = std::collections::BTreeMap::new();
    for status in [
        HandoffStatus::Pending,
        HandoffStatus::Delivered,
        HandoffStatus::Dead,
    ] {
        counts.insert(status.as_str(), 0);
    }
    for (status, n) in state.store.handoff_counts().await? {
        counts.insert(status.as_str(), n);
    }
    Ok(Json(HandoffsPage {
        handoffs: found,
        counts,
        next,
    }))
}

api_errors!(
    /// `GET /v1/admin/handoffs/{id}`.
    HandoffErrors = ADMIN,
    &[Code::NotFound],
    STORE,
);

/// One handoff, with the body sent for it.
#[utoipa::path(get, path = "/v1/admin/handoffs/{id}", tag = "agent",
    params(("id" = String, Path, description = "The handoff's id.")),
    responses((status = 200, description = "The handoff.", body = HandoffDetail), HandoffErrors),
    security(("admin_token" = [])))]
async fn handoff(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<HandoffDetail>, ApiError> {
    let handoff = state
        .store
        .handoff(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("handoff"))?;
    let payload: Option<serde_json::Value> = handoff
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok());
    Ok(Json(HandoffDetail {
        handoff: ListedHandoff::from(handoff),
        payload,
    }))
}

api_errors!(
    /// `POST /v1/admin/handoffs/{id}/retry`.
    RetryHandoffErrors = ADMIN,
    &[Code::NotFound, Code::HandoffNotDead],
    STORE,
);

/// `POST /v1/admin/handoffs/{id}/retry`: a dead handoff back in the outbox,
/// due now, its schedule started over.
#[utoipa::path(post, path = "/v1/admin/handoffs/{id}/retry", tag = "agent",
    params(("id" = String, Path, description = "The handoff's id.")),
    responses((status = 200, description = "Back in the outbox.", body = Requeued), RetryHandoffErrors),
    security(("admin_token" = [])))]
async fn retry_handoff(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Requeued>, ApiError> {
    let now = jiff::Timestamp::now().as_millisecond();
    if state.store.requeue_handoff(&id, now).await? {
        tracing::info!(handoff = %id, "dead handoff retried by hand");
        state.outbox.notify_one();
        return Ok(Json(Requeued {
            id,
            status: HandoffStatus::Pending,
        }));
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

/// A reload that put the rules in force.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct RulesReloaded {
    /// The version now in force.
    version: String,
    /// The version before.
    previous: String,
    /// Whether the version changed.
    changed: bool,
    /// How many intents the rules have.
    intents: usize,
    /// What `check` warns about, as `path:line:column: message`.
    warnings: Vec<String>,
}

api_errors!(
    /// `POST /v1/admin/rules/reload`: `rules_invalid` lists every problem
    /// in `error.errors`.
    ReloadErrors = ADMIN,
    &[Code::RulesInvalid, Code::Internal],
);

/// `POST /v1/admin/rules/reload`: the rules read again from their files,
/// checked, and put in force; 422 `rules_invalid` with every problem when
/// they do not load (the rules in force keep serving).
#[utoipa::path(post, path = "/v1/admin/rules/reload", tag = "agent",
    responses((status = 200, description = "The rules are in force.", body = RulesReloaded), ReloadErrors),
    security(("admin_token" = [])))]
async fn reload_rules(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<RulesReloaded>, ApiError> {
    match state.reloader.reload("api").await {
        Ok(reloaded) => Ok(Json(RulesReloaded {
            changed: reloaded.changed(),
            version: reloaded.version,
            previous: reloaded.previous,
            intents: reloaded.intents,
            warnings: reloaded.warnings.iter().map(ToString::to_string).collect(),
        })),
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
