//! Rule suggestions in the agent API: what customers asked that the rules
//! did not understand, with the rule that would catch it, and a replay of
//! what that rule would change (stored conversations, conversation tests).

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::{ADMIN, Admin};
use super::error::{ApiQuery, Code, QUERY, STORE};
use super::{ApiError, AppState};
use crate::conversation_test::TestSuite;
use crate::rules::RuleSet;
use crate::suggest::{self, Message, Replay, Settings, Suggestion};

/// The suggestions' routes, each with its part of the `OpenAPI` document.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(replay))
}

/// The most stored messages one request mines and replays (the latest).
const MAX_MESSAGES: i64 = 50_000;

/// The period and how many suggestions.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SuggestionsQuery {
    /// RFC 3339: messages written at or after it.
    from: Option<String>,
    /// RFC 3339: messages written before it.
    to: Option<String>,
    /// 20 unless given, at most 200.
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct SuggestionsResponse {
    suggestions: Vec<Suggestion>,
}

fn millis(field: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            v.parse::<jiff::Timestamp>()
                .map(jiff::Timestamp::as_millisecond)
                .map_err(|e| ApiError::invalid(format!("`{field}` is not an RFC 3339 time: {e}")))
        })
        .transpose()
}

/// The stored customer messages of the period.
async fn messages(state: &AppState, query: &SuggestionsQuery) -> Result<Vec<Message>, ApiError> {
    let from = millis("from", query.from.as_deref())?;
    let to = millis("to", query.to.as_deref())?;
    let found = state
        .store
        .customer_messages(from, to, MAX_MESSAGES)
        .await?;
    Ok(found.into_iter().map(Message::from).collect())
}

/// Mining compares every unmatched message with every other: off the
/// request threads.
async fn mine(
    rules: Arc<RuleSet>,
    messages: Arc<Vec<Message>>,
    settings: Settings,
) -> Result<Vec<Suggestion>, ApiError> {
    tokio::task::spawn_blocking(move || suggest::suggest(&rules, &messages, &settings))
        .await
        .map_err(|e| internal(&e))
}

fn internal(err: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %err, "rule suggestions failed");
    ApiError::new(
        Code::Internal,
        "the service could not complete the request; please try again",
    )
}

api_errors!(
    /// `GET /v1/admin/suggestions`.
    ListErrors = ADMIN,
    QUERY,
    &[Code::OutOfRange],
    STORE,
);

/// Rules the stored customer messages of a period suggest: keywords for an
/// intent, or a new intent, each with the messages it would have caught.
#[utoipa::path(get, path = "/v1/admin/suggestions", tag = "agent", operation_id = "list_suggestions",
    params(SuggestionsQuery),
    responses((status = 200, description = "The suggestions, the best supported first.",
        body = SuggestionsResponse), ListErrors),
    security(("admin_token" = [])))]
async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<SuggestionsQuery>,
) -> Result<Json<SuggestionsResponse>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::new(
            Code::OutOfRange,
            "`limit` must be from 1 to 200",
        ));
    }
    let messages = Arc::new(messages(&state, &query).await?);
    let settings = Settings {
        limit: limit as usize,
        ..Settings::default()
    };
    let suggestions = mine(state.rules.current(), messages, settings).await?;
    Ok(Json(SuggestionsResponse { suggestions }))
}

/// The conversation tests, when there are any; a folder that does not
/// exist has none, and tests that do not load are left out with a warning.
fn conversation_tests(path: &FsPath) -> Option<TestSuite> {
    if !path.exists() {
        return None;
    }
    match TestSuite::load(&[path]) {
        Ok(suite) => Some(suite),
        Err(problems) => {
            tracing::warn!(
                problems = problems.len(),
                first = %problems.first().map(ToString::to_string).unwrap_or_default(),
                "the conversation tests do not load; replaying without them"
            );
            None
        }
    }
}

api_errors!(
    /// `POST /v1/admin/suggestions/{id}/replay`.
    ReplayErrors = ADMIN,
    QUERY,
    &[Code::UnknownSuggestion],
    STORE,
);

/// What a suggestion would change: the stored messages of the same period
/// decided again with it, and the conversation tests run with it.
#[utoipa::path(post, path = "/v1/admin/suggestions/{id}/replay", tag = "agent",
    params(("id" = String, Path, description = "The suggestion's id, from `GET /v1/admin/suggestions`."),
        SuggestionsQuery),
    responses((status = 200, description = "What the suggestion would change.", body = Replay),
        ReplayErrors),
    security(("admin_token" = [])))]
async fn replay(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<SuggestionsQuery>,
) -> Result<Json<Replay>, ApiError> {
    let messages = Arc::new(messages(&state, &query).await?);
    let rules = state.rules.current();
    // Ids are hashes of what a suggestion adds: mining the same messages
    // again finds it.
    let settings = Settings {
        limit: usize::MAX,
        ..Settings::default()
    };
    let suggestions = mine(Arc::clone(&rules), Arc::clone(&messages), settings).await?;
    let suggestion = suggestions
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| {
            ApiError::new(
                Code::UnknownSuggestion,
                format!("no suggestion `{id}` in the messages of this period"),
            )
        })?;
    let tests_path = state.settings.conversation_tests.clone();
    let replayed = tokio::task::spawn_blocking(move || {
        let tests = conversation_tests(&tests_path);
        suggest::replay_suggestion(&rules, &suggestion, &messages, tests.as_ref())
    })
    .await
    .map_err(|e| internal(&e))?
    .map_err(|e| internal(&e))?;
    Ok(Json(replayed))
}
