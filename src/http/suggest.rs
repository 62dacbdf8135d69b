//! Rule suggestions in the agent API: what customers asked that the rules
//! did not understand, with the rule that would catch it, and a replay of
//! what that rule would change (stored conversations, conversation tests).

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Json;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::admin::Admin;
use super::error::{ApiQuery, Code};
use super::{ApiError, AppState};
use crate::conversation_test::TestSuite;
use crate::rules::RuleSet;
use crate::suggest::{self, Message, Replay, Settings, Suggestion};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/admin/suggestions", get(list))
        .route("/v1/admin/suggestions/{id}/replay", post(replay))
}

/// The most stored messages one request mines and replays (the latest).
const MAX_MESSAGES: i64 = 50_000;

/// The period and how many suggestions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestionsQuery {
    /// RFC 3339: messages written at or after it.
    from: Option<String>,
    /// RFC 3339: messages written before it.
    to: Option<String>,
    /// 20 unless given, at most 200.
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
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
