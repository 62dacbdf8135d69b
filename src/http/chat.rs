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
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::auth::bearer;
use super::error::{ApiJson, ApiQuery};
use super::{ApiError, AppState, Code, HEARTBEAT};
use crate::channels::chat::{
    FeedbackRequest, MessageRequest, MessageResponse, StartRequest, StartResponse, TranscriptQuery,
    TranscriptResponse,
};
use crate::conversation::{self, Event};
use crate::secret::{same_secret, token_hash};
use crate::store::ConversationRecord;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/conversations", post(start))
        .route("/v1/conversations/{id}", get(transcript))
        .route("/v1/conversations/{id}/messages", post(message))
        .route("/v1/conversations/{id}/events", get(events))
        .route("/v1/conversations/{id}/feedback", post(feedback))
}

async fn start(
    State(state): State<AppState>,
    body: Option<ApiJson<StartRequest>>,
) -> Result<impl IntoResponse, ApiError> {
    let request = body.map(|ApiJson(r)| r).unwrap_or_default();
    let start = request.check(state.settings.identity_secret.as_ref())?;
    let started =
        conversation::start(&state.store, &state.rules, &start, jiff::Timestamp::now()).await?;
    Ok((
        StatusCode::CREATED,
        Json(StartResponse {
            id: started.id,
            token: started.token,
        }),
    ))
}

/// The conversation the request's token opens: 401 without a token, and
/// 401 alike for a token of another conversation and for an unknown id. An
/// extractor of the request's head, so that it answers before the body is
/// even read.
struct Authorized(ConversationRecord);

impl FromRequestParts<AppState> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)?.to_owned();
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("conversation"))?;
        let conversation = state.store.conversation(&id).await?;
        // An unknown id is answered as a wrong token: ids cannot be probed.
        match conversation {
            Some(conversation) if same_secret(&token_hash(&token), &conversation.token_hash) => {
                Ok(Authorized(conversation))
            }
            _ => Err(ApiError::unauthorized(
                "this token is not for this conversation",
            )),
        }
    }
}

async fn message(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
    ApiJson(request): ApiJson<MessageRequest>,
) -> Result<Json<MessageResponse>, ApiError> {
    let said = request.check(state.settings.max_message_chars)?;
    state.limits.message(&conversation.id)?;
    // A message and its reply: both must fit.
    if conversation.message_count + 2 > i64::from(state.settings.max_messages_per_conversation) {
        return Err(ApiError::new(
            Code::MessageLimit,
            "this conversation holds as many messages as it may: start a new one",
        ));
    }
    let answered = conversation::customer_message(
        &state.store,
        &state.rules,
        &state.events,
        conversation,
        said,
        jiff::Timestamp::now(),
    )
    .await?;
    if answered.decision.escalation.is_some() {
        state.outbox.notify_one();
    }
    Ok(Json(MessageResponse::from(answered)))
}

async fn transcript(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
    ApiQuery(query): ApiQuery<TranscriptQuery>,
) -> Result<Json<TranscriptResponse>, ApiError> {
    let (after, limit) = query.page()?;
    let messages = state
        .store
        .transcript_page(&conversation.id, after, limit)
        .await?;
    Ok(Json(TranscriptResponse::new(
        conversation.id,
        conversation.state.status,
        messages,
        limit,
    )))
}

/// `GET /v1/conversations/{id}/events`: agent messages and state changes
/// as Server-Sent Events, with heartbeats; the stream ends when the
/// service stops.
async fn events(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let listener = state.events.subscribe(&conversation.id);
    let mut stopping = state.stopping.clone();
    let replaced = listener.replaced;
    let ended = async move {
        // Ends the stream at shutdown (or if the service is already
        // stopping), or when a newer stream of the conversation took its
        // place.
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => {}
            _ = replaced => {}
        }
    };
    let stream = BroadcastStream::new(listener.events).map(|received| {
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
    let stream = futures_util::StreamExt::take_until(stream, ended);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}

async fn feedback(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
    ApiJson(request): ApiJson<FeedbackRequest>,
) -> Result<StatusCode, ApiError> {
    let comment = request.check(state.settings.max_message_chars)?;
    state
        .store
        .add_feedback(
            &conversation.id,
            request.helpful,
            request.csat,
            comment.as_deref(),
            conversation::millis(jiff::Timestamp::now()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
