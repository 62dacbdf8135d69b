//! The chat API the website widget speaks: start a conversation, send
//! messages, read the transcript, follow it live, give feedback. Every call
//! after the first presents the conversation's token as
//! `Authorization: Bearer TOKEN`, so that one visitor can never read
//! another's conversation; tokens never go in URLs.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use crate::conversation::{self, Event, customer_message};
use crate::engine::{ConversationState, QuickReply, Status};
use crate::http::auth::{bearer, new_id, new_token, token_hash, verify_user_hash};
use crate::http::error::ApiJson;
use crate::http::{ApiError, AppState, heartbeat};
use crate::rules::Channel;
use crate::store::{ConversationRecord, Identity, MessageRecord, NewConversation};
use crate::text::Locale;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/conversations", post(start))
        .route("/v1/conversations/{id}", get(transcript))
        .route("/v1/conversations/{id}/messages", post(message))
        .route("/v1/conversations/{id}/events", get(events))
        .route("/v1/conversations/{id}/feedback", post(feedback))
}

/// `POST /v1/conversations`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    name: Option<String>,
    email: Option<String>,
    locale: Option<String>,
    external_id: Option<String>,
    user_hash: Option<String>,
}

#[derive(Debug, Serialize)]
struct Started {
    id: String,
    token: String,
}

const MAX_FIELD_CHARS: usize = 320;

async fn start(
    State(state): State<AppState>,
    body: Option<ApiJson<StartRequest>>,
) -> Result<impl IntoResponse, ApiError> {
    let request = body.map(|ApiJson(r)| r).unwrap_or_default();
    for (name, value) in [
        ("name", &request.name),
        ("email", &request.email),
        ("external_id", &request.external_id),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > MAX_FIELD_CHARS)
        {
            return Err(ApiError::invalid(format!(
                "`{name}` is longer than {MAX_FIELD_CHARS} characters"
            )));
        }
    }
    let email = request
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if let Some(email) = email
        && !looks_like_email(email)
    {
        return Err(ApiError::invalid("`email` is not an e-mail address"));
    }
    let locale = match request.locale.as_deref() {
        None => None,
        Some(tag) => Some(
            tag.parse::<Locale>()
                .map_err(|e| ApiError::invalid(e.to_string()))?,
        ),
    };
    let identity = identity(&state, &request, email)?;
    let mut conversation_state =
        email.map_or_else(ConversationState::default, ConversationState::with_email);
    conversation_state.locale = locale.filter(|l| state.rules.locales().contains(l));
    let token = new_token();
    let new = NewConversation {
        id: new_id(),
        token_hash: token_hash(&token),
        customer_id: new_id(),
        external_id: (identity == Identity::Verified)
            .then(|| request.external_id.clone())
            .flatten(),
        email: email.map(str::to_owned),
        name: request.name.clone(),
        identity,
        channel: Channel::Chat,
        state: conversation_state,
        at: conversation::millis(jiff::Timestamp::now()),
    };
    state.store.create_conversation(&new).await?;
    tracing::info!(conversation = %new.id, identity = identity.as_str(), "conversation started");
    Ok((StatusCode::CREATED, Json(Started { id: new.id, token })))
}

/// How the customer is known: a valid `user_hash` verifies the
/// `external_id`; a wrong one is refused rather than silently ignored.
fn identity(
    state: &AppState,
    request: &StartRequest,
    email: Option<&str>,
) -> Result<Identity, ApiError> {
    match (&request.external_id, &request.user_hash) {
        (Some(external), Some(hash)) => {
            let secret = state.settings.identity_secret.as_ref().ok_or_else(|| {
                ApiError::invalid(
                    "identity verification is not set up: `user_hash` cannot be checked",
                )
            })?;
            if verify_user_hash(secret.expose(), external, hash) {
                Ok(Identity::Verified)
            } else {
                Err(ApiError::unauthorized(
                    "`user_hash` does not match `external_id`",
                ))
            }
        }
        (Some(_), None) => Err(ApiError::invalid(
            "`external_id` needs its `user_hash` (HMAC-SHA256 of the id with the shop's secret)",
        )),
        (None, Some(_)) => Err(ApiError::invalid("`user_hash` needs its `external_id`")),
        (None, None) if email.is_some() => Ok(Identity::Email),
        (None, None) => Ok(Identity::Anonymous),
    }
}

fn looks_like_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
}

/// The conversation the request's token opens: 401 without a token, 404
/// for an unknown id, 401 for a token of another conversation. An
/// extractor of the request's head, so that it answers before the body is
/// even read.
pub(crate) struct Authorized(pub ConversationRecord);

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?.to_owned();
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("conversation"))?;
        let conversation = state
            .store
            .conversation(&id)
            .await?
            .ok_or_else(|| ApiError::not_found("conversation"))?;
        if crate::http::auth::same_secret(&token_hash(&token), &conversation.token_hash) {
            Ok(Authorized(conversation))
        } else {
            Err(ApiError::unauthorized(
                "this token is not for this conversation",
            ))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageRequest {
    text: String,
}

#[derive(Debug, Serialize)]
struct MessageResponse {
    reply: ReplyBody,
    intent: Option<String>,
    escalated: bool,
    state: Status,
}

#[derive(Debug, Serialize)]
struct ReplyBody {
    text: String,
    quick_replies: Vec<QuickReply>,
}

async fn message(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
    ApiJson(request): ApiJson<MessageRequest>,
) -> Result<Json<MessageResponse>, ApiError> {
    let id = conversation.id.clone();
    let text = request.text.trim();
    if text.is_empty() {
        return Err(ApiError::invalid("`text` is empty"));
    }
    if text.chars().count() > state.settings.max_message_chars {
        return Err(ApiError::invalid(format!(
            "`text` is longer than {} characters",
            state.settings.max_message_chars
        )));
    }
    let answered = customer_message(
        &state.store,
        &state.rules,
        &state.events,
        conversation,
        text,
        jiff::Timestamp::now(),
    )
    .await?;
    let decision = answered.decision;
    if decision.escalation.is_some() {
        state.outbox.notify_one();
    }
    tracing::info!(
        conversation = %id,
        intent = answered.intent.as_deref().unwrap_or("-"),
        action = ?decision.action,
        escalation = decision.escalation.map(|e| e.reason.as_str()),
        "message"
    );
    Ok(Json(MessageResponse {
        reply: ReplyBody {
            text: decision.reply.text,
            quick_replies: decision.reply.quick_replies,
        },
        intent: answered.intent,
        escalated: decision.escalation.is_some(),
        state: decision.state.status,
    }))
}

#[derive(Debug, Serialize)]
struct TranscriptResponse {
    id: String,
    state: Status,
    messages: Vec<TranscriptMessage>,
}

/// A message as the customer sees it.
#[derive(Debug, Serialize)]
pub(crate) struct TranscriptMessage {
    #[serde(flatten)]
    message: MessageRecord,
    at: String,
}

impl From<MessageRecord> for TranscriptMessage {
    fn from(message: MessageRecord) -> Self {
        let at = conversation::rfc3339(message.created_at);
        TranscriptMessage { message, at }
    }
}

async fn transcript(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
) -> Result<Json<TranscriptResponse>, ApiError> {
    let id = conversation.id.clone();
    let messages = state.store.transcript(&id).await?;
    Ok(Json(TranscriptResponse {
        id,
        state: conversation.state.status,
        messages: messages.into_iter().map(TranscriptMessage::from).collect(),
    }))
}

/// `GET /v1/conversations/{id}/events`: agent messages and state changes
/// as Server-Sent Events, with heartbeats; the stream ends when the
/// service stops.
async fn events(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let receiver = state.events.subscribe(&conversation.id);
    let mut stopping = state.stopping.clone();
    let stopped = async move {
        // Ends the stream at shutdown (or if the service is already
        // stopping).
        let _ = stopping.wait_for(|stop| *stop).await;
    };
    let stream = BroadcastStream::new(receiver).map(|received| {
        let event = match received {
            Ok(event) => event,
            // A listener too slow to keep up is told how many events it
            // missed, so that it reads the transcript again.
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                return Ok(SseEvent::default()
                    .event("resync")
                    .data(format!("{{\"missed\":{missed}}}")));
            }
        };
        let name = match &event {
            Event::Message { .. } => "message",
            Event::State { .. } => "state",
            Event::Ticket { .. } => "ticket",
        };
        Ok(SseEvent::default()
            .event(name)
            .json_data(&event)
            .unwrap_or_default())
    });
    let stream = futures_util::StreamExt::take_until(stream, stopped);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(heartbeat()).text("heartbeat")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackRequest {
    helpful: Option<bool>,
    csat: Option<i32>,
    comment: Option<String>,
}

async fn feedback(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
    ApiJson(request): ApiJson<FeedbackRequest>,
) -> Result<StatusCode, ApiError> {
    let id = conversation.id;
    if request.helpful.is_none() && request.csat.is_none() && request.comment.is_none() {
        return Err(ApiError::invalid("give `helpful`, `csat` or `comment`"));
    }
    if let Some(csat) = request.csat
        && !(1..=5).contains(&csat)
    {
        return Err(ApiError::invalid("`csat` must be from 1 to 5"));
    }
    let comment = request.comment.as_deref().map(crate::privacy::mask);
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > state.settings.max_message_chars)
    {
        return Err(ApiError::invalid("`comment` is too long"));
    }
    state
        .store
        .add_feedback(
            &id,
            request.helpful,
            request.csat,
            comment.as_deref(),
            conversation::millis(jiff::Timestamp::now()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
