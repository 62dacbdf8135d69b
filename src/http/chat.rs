//! The chat API the website widget speaks: start a conversation, send
//! messages, read the transcript, follow it live, give feedback. Every call
//! after the first presents the conversation's token as
//! `Authorization: Bearer TOKEN`, so that one visitor can never read
//! another's conversation; tokens never go in URLs.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Json};
use futures_util::Stream;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::bearer;
use super::error::{ApiJson, ApiQuery, JSON_BODY, MESSAGE, QUERY, STORE};
use super::limits::PER_CLIENT;
use super::{ApiError, AppState, Code, HEARTBEAT};
use crate::channels::chat::{
    FeedbackRequest, MessageRequest, MessageResponse, StartRequest, StartResponse, TranscriptQuery,
    TranscriptResponse,
};
use crate::conversation;
use crate::secret::{same_secret, token_hash};
use crate::store::ConversationRecord;

/// The chat API's routes, each with its part of the `OpenAPI` document.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(transcript))
        .routes(routes!(message))
        .routes(routes!(events))
        .routes(routes!(feedback))
}

/// What [`Authorized`] refuses with: no token or not this conversation's
/// (401), or a database that does not answer.
const AUTHORIZED: &[Code] = &[Code::Unauthorized, Code::Unavailable, Code::Internal];

api_errors!(
    /// `POST /v1/conversations`.
    StartErrors = JSON_BODY,
    PER_CLIENT,
    &[
        Code::TooLong,
        Code::InvalidEmail,
        Code::UnknownLocale,
        Code::IdentityIncomplete,
        Code::IdentityNotConfigured,
        Code::IdentityUnverified,
    ],
    STORE,
);

/// Starts a conversation; the visitor's details are all optional, and so is
/// the body. The token in the answer is shown once: every later call
/// presents it.
#[utoipa::path(
    post,
    path = "/v1/conversations",
    tag = "chat",
    request_body(content = Option<StartRequest>, description = "Who the visitor is; all optional."),
    responses(
        (status = 201, description = "Started.", body = StartResponse),
        StartErrors
    )
)]
async fn start(
    State(state): State<AppState>,
    body: Option<ApiJson<StartRequest>>,
) -> Result<impl IntoResponse, ApiError> {
    let request = body.map(|ApiJson(r)| r).unwrap_or_default();
    let start = request.check(state.settings.identity_secret.as_ref())?;
    let started = conversation::start(
        &state.store,
        &state.rules.current(),
        &start,
        jiff::Timestamp::now(),
    )
    .await?;
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

api_errors!(
    /// `POST /v1/conversations/{id}/messages`.
    MessageErrors = AUTHORIZED,
    JSON_BODY,
    PER_CLIENT,
    &[
        Code::TooLong,
        Code::Empty,
        Code::MessageLimit,
        Code::QuickReplyNotOffered,
    ],
    MESSAGE,
);

/// A customer message, and the bot's answer to it.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/messages",
    tag = "chat",
    params(("id" = String, Path, description = "The conversation's id.")),
    request_body = MessageRequest,
    responses(
        (status = 200, description = "The bot's answer.", body = MessageResponse),
        MessageErrors
    ),
    security(("conversation_token" = []))
)]
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
        &state.rules.current(),
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

api_errors!(
    /// `GET /v1/conversations/{id}`.
    TranscriptErrors = AUTHORIZED,
    QUERY,
    PER_CLIENT,
    &[Code::OutOfRange],
    STORE,
);

/// The transcript as the customer sees it, whole or a page at a time.
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}",
    tag = "chat",
    params(("id" = String, Path, description = "The conversation's id."), TranscriptQuery),
    responses(
        (status = 200, description = "The transcript.", body = TranscriptResponse),
        TranscriptErrors
    ),
    security(("conversation_token" = []))
)]
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
        &conversation,
        messages,
        limit,
    )))
}

/// The most stored events one reconnection replays; a client further
/// behind is told to read the transcript again (`resync`).
const REPLAY_LIMIT: i64 = 500;

api_errors!(
    /// `GET /v1/conversations/{id}/events`.
    EventsErrors = AUTHORIZED,
    PER_CLIENT,
    &[Code::Invalid],
    STORE,
);

/// `GET /v1/conversations/{id}/events`: agent messages, state changes and
/// ticket references as Server-Sent Events, each with its `id`, and
/// heartbeats; the stream ends when the service stops. With
/// `Last-Event-ID`, the events after it are replayed from the store first,
/// so a client that lost its connection misses nothing.
#[utoipa::path(
    get,
    path = "/v1/conversations/{id}/events",
    tag = "chat",
    params(
        ("id" = String, Path, description = "The conversation's id."),
        ("Last-Event-ID" = Option<i64>, Header,
            description = "The id of the last event read: the events after it are replayed first."),
    ),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "Server-Sent Events, each with its `id` and `event` (the event's kind: \
                agent messages, state changes, ticket references; `resync` when events were \
                missed: read the transcript again), and `heartbeat` comments; the stream ends \
                when the service stops."),
        EventsErrors
    ),
    security(("conversation_token" = []))
)]
async fn events(
    State(state): State<AppState>,
    Authorized(conversation): Authorized,
    headers: axum::http::HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let last_seen = last_event_id(&headers)?;
    // Listening before reading the store: an event stored meanwhile comes
    // live, and is skipped there if the replay had it.
    let listener = state.events.subscribe(&conversation.id);
    let missed = match last_seen {
        Some(after) => {
            state
                .store
                .events_after(&conversation.id, after, REPLAY_LIMIT)
                .await?
        }
        None => Vec::new(),
    };
    let behind = i64::try_from(missed.len()).unwrap_or(i64::MAX) >= REPLAY_LIMIT;
    // Without `Last-Event-ID` the client wants what happens from now on.
    let replayed_up_to = missed
        .last()
        .map_or(last_seen.unwrap_or(conversation.event_count), |event| {
            event.id
        });
    let mut replay: Vec<Result<SseEvent, Infallible>> = missed
        .into_iter()
        .map(|event| Ok(stored_event(event)))
        .collect();
    if behind {
        replay.push(Ok(resync(None)));
    }
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
    let order = Arc::new(InOrder {
        store: state.store.clone(),
        conversation: conversation.id.clone(),
        last_sent: AtomicI64::new(replayed_up_to),
    });
    let live =
        futures_util::StreamExt::then(BroadcastStream::new(listener.events), move |received| {
            let order = Arc::clone(&order);
            async move { order.next(received).await }
        });
    let live = futures_util::StreamExt::flat_map(live, futures_util::stream::iter);
    let stream = futures_util::stream::iter(replay).chain(live);
    let stream = futures_util::StreamExt::take_until(stream, ended);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat")))
}

/// Keeps one stream's live events in order and without gaps: events are
/// published after their write commits, so two writers may publish out of
/// order, and a write made by another replica is not published here at
/// all. An event past a gap brings what is missing from the store first;
/// one already sent is not sent again.
struct InOrder {
    store: crate::store::Store,
    conversation: String,
    last_sent: AtomicI64,
}

impl InOrder {
    async fn next(
        &self,
        received: Result<conversation::Numbered, BroadcastStreamRecvError>,
    ) -> Vec<Result<SseEvent, Infallible>> {
        let numbered = match received {
            Ok(numbered) => numbered,
            // A listener too slow to keep up is told how many events it
            // missed: it reconnects with its last event id, or reads the
            // transcript again.
            Err(BroadcastStreamRecvError::Lagged(missed)) => return vec![Ok(resync(Some(missed)))],
        };
        let last = self.last_sent.load(Ordering::Acquire);
        if numbered.id <= last {
            return Vec::new();
        }
        if numbered.id == last + 1 {
            self.last_sent.store(numbered.id, Ordering::Release);
            return vec![Ok(live_event(&numbered))];
        }
        let gap = numbered.id - last;
        match self.store.events_after(&self.conversation, last, gap).await {
            Ok(stored) if stored.last().is_some_and(|e| e.id >= numbered.id) => {
                self.last_sent.store(numbered.id, Ordering::Release);
                stored
                    .into_iter()
                    .filter(|e| e.id <= numbered.id)
                    .map(|e| Ok(stored_event(e)))
                    .collect()
            }
            // The store cannot fill the gap: the event goes as it is, and
            // the client is told to read the transcript again.
            _ => {
                self.last_sent.store(numbered.id, Ordering::Release);
                vec![Ok(resync(None)), Ok(live_event(&numbered))]
            }
        }
    }
}

fn live_event(numbered: &conversation::Numbered) -> SseEvent {
    SseEvent::default()
        .id(numbered.id.to_string())
        .event(numbered.event.kind())
        .json_data(&numbered.event)
        .unwrap_or_default()
}

fn stored_event(event: crate::store::StoredEvent) -> SseEvent {
    SseEvent::default()
        .id(event.id.to_string())
        .event(event.kind)
        .data(event.body)
}

/// Tells the client it missed events (`missed` of them, when known).
fn resync(missed: Option<u64>) -> SseEvent {
    let body = missed.map_or_else(|| "{}".to_owned(), |n| format!("{{\"missed\":{n}}}"));
    SseEvent::default().event("resync").data(body)
}

/// The `Last-Event-ID` a reconnecting client sends: the id of the last
/// event it read.
fn last_event_id(headers: &axum::http::HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                ApiError::new(
                    Code::Invalid,
                    "`Last-Event-ID` must be the id of an event of this stream (a number)",
                )
            })
        })
        .transpose()
}

api_errors!(
    /// `POST /v1/conversations/{id}/feedback`.
    FeedbackErrors = AUTHORIZED,
    JSON_BODY,
    PER_CLIENT,
    &[Code::EmptyFeedback, Code::OutOfRange, Code::TooLong],
    STORE,
);

/// How the conversation went: helpful or not, satisfaction, a comment.
#[utoipa::path(
    post,
    path = "/v1/conversations/{id}/feedback",
    tag = "chat",
    params(("id" = String, Path, description = "The conversation's id.")),
    request_body = FeedbackRequest,
    responses((status = 204, description = "Taken."), FeedbackErrors),
    security(("conversation_token" = []))
)]
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
