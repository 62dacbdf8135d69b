//! The one error of the HTTP API: a stable machine-readable [`Code`] (which
//! sets the status) and a message a person can act on, as
//! `{"error": {"code", "message"}}`.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::channels::chat::ChatError;
use crate::conversation::MessageError;
use crate::store::StoreError;

/// The stable, machine-readable codes of API errors: one per failure a
/// client can act on. The names are a contract (the README lists them);
/// new ones may be added, none renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// 400: the request cannot be read at all.
    BadRequest,
    /// 400: the body is not well-formed JSON.
    MalformedJson,
    /// 415: the body is not declared as JSON.
    UnsupportedMediaType,
    /// 413: the body is larger than the service accepts.
    PayloadTooLarge,
    /// 401: no token, or the wrong one.
    Unauthorized,
    /// 401: `user_hash` does not match `external_id`.
    IdentityUnverified,
    /// 404: no such conversation, customer, handoff or endpoint.
    NotFound,
    /// 404: no rule suggestion has this id (for the period asked).
    UnknownSuggestion,
    /// 405: the endpoint does not take this method.
    MethodNotAllowed,
    /// 422: a field has the wrong type, is unknown, or is missing.
    Invalid,
    /// 422: a text field is longer than the service accepts.
    TooLong,
    /// 422: a text that must say something is empty.
    Empty,
    /// 422: `email` is not an e-mail address.
    InvalidEmail,
    /// 422: `locale` is not one madoguchi speaks.
    UnknownLocale,
    /// 422: `external_id` came without its `user_hash`, or the other way round.
    IdentityIncomplete,
    /// 422: `user_hash` was sent, but identity verification is not set up.
    IdentityNotConfigured,
    /// 422: feedback without `helpful`, `csat` or `comment`.
    EmptyFeedback,
    /// 422: a number outside its range (`csat`, `limit`).
    OutOfRange,
    /// 422: a state or status filter that does not exist.
    UnknownFilter,
    /// 422: `quick_reply` names an intent the conversation's last reply did
    /// not offer.
    QuickReplyNotOffered,
    /// 422: the rules do not load (a reload): `errors` lists every
    /// problem with its place; the rules in force keep serving.
    RulesInvalid,
    /// 429: over a rate limit; try again after `Retry-After`.
    RateLimited,
    /// 429: the conversation holds as many messages as it may: start a new
    /// one.
    MessageLimit,
    /// 409: the conversation is closed.
    ConversationClosed,
    /// 409: the message raced with others on its conversation too often:
    /// send it again (after `Retry-After`).
    Conflict,
    /// 409: only a dead handoff is retried by hand.
    HandoffNotDead,
    /// 409: only a dead or held mail is sent again by hand.
    MailNotDead,
    /// 503: the database does not answer, or cannot take writes (a full
    /// disk): nothing was stored; try again after `Retry-After`.
    Unavailable,
    /// 500: something failed inside; the log says what.
    Internal,
}

impl Code {
    /// Every code, in the order the README lists them.
    pub const ALL: [Code; 29] = [
        Code::BadRequest,
        Code::MalformedJson,
        Code::UnsupportedMediaType,
        Code::PayloadTooLarge,
        Code::Unauthorized,
        Code::IdentityUnverified,
        Code::NotFound,
        Code::UnknownSuggestion,
        Code::MethodNotAllowed,
        Code::Invalid,
        Code::TooLong,
        Code::Empty,
        Code::InvalidEmail,
        Code::UnknownLocale,
        Code::IdentityIncomplete,
        Code::IdentityNotConfigured,
        Code::EmptyFeedback,
        Code::OutOfRange,
        Code::UnknownFilter,
        Code::QuickReplyNotOffered,
        Code::RulesInvalid,
        Code::RateLimited,
        Code::MessageLimit,
        Code::ConversationClosed,
        Code::Conflict,
        Code::HandoffNotDead,
        Code::MailNotDead,
        Code::Unavailable,
        Code::Internal,
    ];

    /// The code's name on the wire (`not_found`).
    #[must_use]
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The HTTP status that goes with the code.
    #[must_use]
    pub const fn status(self) -> StatusCode {
        match self {
            Code::BadRequest | Code::MalformedJson => StatusCode::BAD_REQUEST,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::Unauthorized | Code::IdentityUnverified => StatusCode::UNAUTHORIZED,
            Code::NotFound | Code::UnknownSuggestion => StatusCode::NOT_FOUND,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Invalid
            | Code::TooLong
            | Code::Empty
            | Code::InvalidEmail
            | Code::UnknownLocale
            | Code::IdentityIncomplete
            | Code::IdentityNotConfigured
            | Code::EmptyFeedback
            | Code::OutOfRange
            | Code::UnknownFilter
            | Code::QuickReplyNotOffered
            | Code::RulesInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            Code::RateLimited | Code::MessageLimit => StatusCode::TOO_MANY_REQUESTS,
            Code::ConversationClosed
            | Code::Conflict
            | Code::HandoffNotDead
            | Code::MailNotDead => StatusCode::CONFLICT,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What a JSON body ([`ApiJson`]) can be refused with: unreadable or
/// late (`bad_request`), not JSON, too large, or not of the expected shape.
pub(super) const JSON_BODY: &[Code] = &[
    Code::BadRequest,
    Code::MalformedJson,
    Code::UnsupportedMediaType,
    Code::PayloadTooLarge,
    Code::Invalid,
];

/// What query parameters ([`ApiQuery`]) can be refused with.
pub(super) const QUERY: &[Code] = &[Code::Invalid];

/// What a failing database turns into (`From<StoreError>`); `conflict`
/// only where a conversation is written ([`MESSAGE`]).
pub(super) const STORE: &[Code] = &[Code::Unavailable, Code::Internal];

/// What writing to a conversation can fail with (`From<MessageError>`).
pub(super) const MESSAGE: &[Code] = &[
    Code::NotFound,
    Code::ConversationClosed,
    Code::Conflict,
    Code::Unavailable,
    Code::Internal,
];

/// How long a client that raced with other messages waits before trying
/// again, in seconds.
const CONFLICT_RETRY_AFTER: u64 = 1;

/// How long a client waits before trying again when the database cannot
/// take writes (a full disk), in seconds.
const UNAVAILABLE_RETRY_AFTER: u64 = 5;

/// An API error: a code, and a message a person can act on.
#[derive(Debug)]
pub struct ApiError {
    code: Code,
    message: String,
    /// Each problem, when there are several (`rules_invalid`).
    errors: Option<serde_json::Value>,
    /// When to try again, if the code's own default is not it.
    retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            errors: None,
            retry_after: None,
        }
    }

    /// The same error, with a `Retry-After` of `wait` (whole seconds,
    /// rounded up).
    #[must_use]
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// The same error, listing each problem.
    #[must_use]
    pub fn with_errors(mut self, errors: serde_json::Value) -> Self {
        self.errors = Some(errors);
        self
    }

    /// 401: no token, or the wrong one.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Code::Unauthorized, message)
    }

    /// 404: no such conversation (or customer, handoff...).
    #[must_use]
    pub fn not_found(what: &str) -> Self {
        Self::new(Code::NotFound, format!("no such {what}"))
    }

    /// 422: a field that is present but wrong.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::Invalid, message)
    }

    /// 503: the service cannot answer now.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Code::Unavailable, message)
    }

    /// The code.
    #[must_use]
    pub fn code(&self) -> Code {
        self.code
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        if matches!(err, StoreError::Conflict) {
            tracing::warn!("a message raced with others on its conversation past the retries");
            return Self::new(
                Code::Conflict,
                "the conversation kept changing under this request: send it again",
            );
        }
        if let StoreError::Unavailable(why) | StoreError::Busy(why) = &err {
            tracing::warn!(error = %why, "a request found the database unavailable");
            return Self::unavailable(
                "the service cannot store this now; nothing was kept: try again later",
            );
        }
        // The cause goes to the log; the client learns only that it failed.
        tracing::error!(error = %err, "store error");
        Self::new(
            Code::Internal,
            "the service could not complete the request; please try again",
        )
    }
}

impl From<MessageError> for ApiError {
    fn from(err: MessageError) -> Self {
        match err {
            MessageError::Closed => Self::new(
                Code::ConversationClosed,
                "this conversation is closed: start a new one",
            ),
            MessageError::Gone => Self::not_found("conversation"),
            MessageError::NotOffered { .. } => {
                Self::new(Code::QuickReplyNotOffered, err.to_string())
            }
            MessageError::Store(e) => e.into(),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(err: ChatError) -> Self {
        let code = match err {
            ChatError::TooLong { .. } => Code::TooLong,
            ChatError::Empty(_) => Code::Empty,
            ChatError::InvalidEmail => Code::InvalidEmail,
            ChatError::UnknownLocale(_) => Code::UnknownLocale,
            ChatError::IdentityNotConfigured => Code::IdentityNotConfigured,
            ChatError::IdentityIncomplete(_) => Code::IdentityIncomplete,
            ChatError::IdentityUnverified => Code::IdentityUnverified,
            ChatError::EmptyFeedback => Code::EmptyFeedback,
            ChatError::OutOfRange(_) => Code::OutOfRange,
        };
        Self::new(code, err.to_string())
    }
}

/// The body of every API error, as the `OpenAPI` document describes it: the
/// response is serialized from this type, so the two cannot differ.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: act on this.
    pub code: Code,
    /// For a person: what to do about it.
    pub message: String,
    /// Each problem, when there are several (`rules_invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<RuleProblem>>)]
    pub errors: Option<serde_json::Value>,
}

/// One problem of rules that do not load, with its place.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleProblem {
    /// The rule file.
    pub path: String,
    /// Its line, from 1.
    pub line: u64,
    /// Its column, from 1.
    pub column: u64,
    /// What is wrong there.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                errors: self.errors,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let retry_after = match (self.retry_after, self.code) {
            (Some(wait), _) => Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)),
            (None, Code::Conflict) => Some(CONFLICT_RETRY_AFTER),
            (None, Code::Unavailable) => Some(UNAVAILABLE_RETRY_AFTER),
            (None, _) => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => not_json(),
            JsonRejection::JsonSyntaxError(e) => Self::new(Code::MalformedJson, e.body_text()),
            JsonRejection::JsonDataError(e) => Self::invalid(e.body_text()),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(
                    Code::PayloadTooLarge,
                    "the request body is larger than the service accepts",
                )
            }
            other => Self::new(Code::BadRequest, other.body_text()),
        }
    }
}

/// Whether the body is declared as JSON in UTF-8 (`application/json` or a
/// `+json` type; a `charset` other than UTF-8 is refused rather than read
/// as UTF-8).
fn utf8_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(declared) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = declared.split(';').map(str::trim);
    let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"));
    let utf8 = parts
        .filter_map(|p| p.split_once('='))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, value)| {
            let value = value.trim().trim_matches('"');
            value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8")
        });
    json && utf8
}

fn not_json() -> ApiError {
    ApiError::new(
        Code::UnsupportedMediaType,
        "send the body as JSON in UTF-8, with `Content-Type: application/json`",
    )
}

/// A JSON body whose rejections are [`ApiError`]s.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !utf8_json(req.headers()) {
            return Err(not_json());
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Self::Rejection::from(JsonRejection::from(e)))?;
        // serde reads a struct from an array as readily as from an object
        // (`["hi"]` as `{"text": "hi"}`); the API takes objects only.
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|&b| b != b'{')
            && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok()
        {
            return Err(ApiError::invalid("the body must be a JSON object"));
        }
        let Json(value) = Json::<T>::from_bytes(&body)?;
        Ok(ApiJson(value))
    }
}

/// An optional JSON body: absent when the request has none; a body that
/// is not declared as JSON is 415, as for a required one.
impl<S, T> OptionalFromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let declared = req.headers().contains_key(axum::http::header::CONTENT_TYPE);
        if declared {
            let ApiJson(value) = <ApiJson<T> as FromRequest<S>>::from_request(req, state).await?;
            return Ok(Some(ApiJson(value)));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Self::Rejection::from(JsonRejection::from(e)))?;
        if body.iter().all(u8::is_ascii_whitespace) {
            Ok(None)
        } else {
            Err(not_json())
        }
    }
}

/// Query parameters whose rejections are [`ApiError`]s (422).
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError::invalid(e.body_text()))?;
        Ok(ApiQuery(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(code: Code) -> String {
        serde_json::to_value(code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    #[test]
    fn a_conflict_left_after_the_retries_is_409_to_try_again() {
        let response = ApiError::from(MessageError::Store(StoreError::Conflict)).into_response();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(
            response.headers()[axum::http::header::RETRY_AFTER],
            CONFLICT_RETRY_AFTER.to_string().as_str()
        );
    }

    #[test]
    fn every_code_has_its_own_name_and_is_in_the_readme() {
        let readme = include_str!("../../README.md");
        let mut names: Vec<String> = Code::ALL.iter().map(|&c| name(c)).collect();
        for code in &names {
            assert!(
                readme.contains(&format!("| `{code}` |")),
                "`{code}` is not listed in the README's table of error codes"
            );
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }
}
