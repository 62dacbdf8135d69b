//! The HTTP API: one router over one application state; its errors, each
//! with a stable [`Code`]; the chat API (for the widget) and the agent API
//! (for the support team). The startup module builds the state and serves
//! the router.

// First: the `api_errors!` macro it defines is used by the parts below.
#[macro_use]
mod openapi;
mod admin;
mod analytics;
mod auth;
mod chat;
mod email;
mod error;
mod limits;
mod metrics;
mod serve;
mod site;
mod suggest;

pub use error::{ApiError, Code};
pub use limits::RateLimits;
pub use serve::{Connections, serve};
pub use site::{DEMO_POLICY, WIDGET};

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::sync::{Notify, watch};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::conversation::Events;
use crate::rules::LiveRules;
use crate::secret::Secret;
use crate::store::Store;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The rule set in force (swapped whole on a reload).
    pub rules: Arc<LiveRules>,
    /// The database.
    pub store: Store,
    /// Live listeners of conversations.
    pub events: Events,
    /// Deployment settings the handlers need.
    pub settings: Arc<Settings>,
    /// Becomes `true` when the service is stopping: live streams end.
    pub stopping: watch::Receiver<bool>,
    /// Wakes the outbox worker when a handoff is written.
    pub outbox: Arc<Notify>,
    /// The chat API's rate limits.
    pub limits: Arc<RateLimits>,
    /// Reloads the rules (the agent API's `rules/reload`).
    pub reloader: Arc<crate::check::Reloader>,
    /// The e-mail channel's inbox, when it is on.
    pub inbox: Option<crate::channels::email::Inbox>,
}

/// The settings handlers read.
#[derive(Debug)]
pub struct Settings {
    /// The agent API's token.
    pub admin_token: Option<Secret>,
    /// The secret behind `user_hash`.
    pub identity_secret: Option<Secret>,
    /// The longest message accepted, in characters.
    pub max_message_chars: usize,
    /// The most messages a conversation holds.
    pub max_messages_per_conversation: u32,
    /// The origins whose pages may call the chat API from a browser.
    pub cors_origins: Vec<String>,
    /// The bearer secret of `POST /v1/email/inbound`.
    pub email_inbound_secret: Option<Secret>,
    /// The largest inbound mail accepted, in bytes.
    pub email_max_bytes: usize,
    /// The bearer token of `/metrics`; without it `/metrics` is open.
    pub metrics_token: Option<Secret>,
    /// Whether `/metrics` is served on the main listener (not when it has
    /// a listener of its own).
    pub metrics_here: bool,
    /// After a bot answer, this many minutes of silence settle a
    /// conversation (the analytics).
    pub analytics_silence_minutes: u32,
    /// The conversation tests rule suggestions are replayed against.
    pub conversation_tests: std::path::PathBuf,
}

/// How often a live stream sends a comment so that proxies keep it open.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// Every route of the service, over `state`; bodies above `max_body_bytes`
/// are refused with 413, and a body not sent within `body_timeout` is
/// refused too (400).
///
/// # Panics
/// If the `OpenAPI` document does not serialize (it is made of strings and
/// maps: never).
pub fn router(state: AppState, max_body_bytes: usize, body_timeout: Duration) -> Router {
    // Each part gets its 405 before its layers, so that the CORS layer sees
    // a preflight before the method is refused.
    // Every route is registered with `routes!` (see the `openapi` module):
    // the router and the document come from the same registrations.
    let mut service = OpenApiRouter::with_openapi(openapi::Root::openapi())
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(openapi::document));
    if state.settings.metrics_here {
        service = service.routes(routes!(metrics::metrics));
    }
    let (service, mut document) = service
        .merge(admin::routes())
        .merge(analytics::routes())
        .merge(suggest::routes())
        .merge(email::admin_routes())
        .merge(site::routes())
        .split_for_parts();
    let (chat_routes, chat_document) = chat::routes().split_for_parts();
    let (inbound, inbound_document) =
        email::inbound_routes(state.settings.email_max_bytes).split_for_parts();
    document.merge(chat_document);
    document.merge(inbound_document);
    let document = openapi::Document(
        document
            .to_json()
            .expect("the OpenAPI document serializes")
            .into(),
    );
    let chat = chat_routes
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::per_client,
        ))
        .layer(cors(&state.settings.cors_origins))
        .layer(axum::middleware::from_fn(only_preflights));
    service
        .method_not_allowed_fallback(method_not_allowed)
        .merge(chat)
        .fallback(|| async { ApiError::not_found("endpoint") })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        // After the service-wide limit, so that its own (larger) limit is
        // the one that holds for raw mail.
        .merge(inbound.method_not_allowed_fallback(method_not_allowed))
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            serve::body_deadline,
        ))
        .layer(axum::middleware::from_fn(metrics::time_requests))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::Extension(document))
        .with_state(state)
}

/// `/metrics` alone, for a listener of its own (`metrics_listen`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async { ApiError::not_found("endpoint") })
        .with_state(state)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        "this endpoint does not take this method",
    )
}

/// The CORS layer takes every `OPTIONS` for a preflight; one that is not
/// (no `Access-Control-Request-Method`) is refused as any other method the
/// chat API does not take.
async fn only_preflights(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.method() == axum::http::Method::OPTIONS
        && !request
            .headers()
            .contains_key(axum::http::header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return method_not_allowed().await.into_response();
    }
    next.run(request).await
}

/// Which web pages may call the chat API from a browser: the configured
/// origins, with the headers the widget sends (the token is a header, so no
/// cookies are needed). Any other origin gets no CORS headers, and the
/// browser keeps its page from reading the answer.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderName, HeaderValue, Method, header};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_hours(1))
}

/// What `/healthz` and `/readyz` answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok`, or `ready`.
    status: &'static str,
}

/// What `/readyz` answers when the service can take requests.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Readiness {
    /// `ready`.
    status: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    /// How many intents the rules in force have.
    intents: usize,
    /// The version of the rules in force.
    rules_version: String,
}

api_errors!(
    /// `/readyz` when the database cannot take writes.
    ReadyzErrors = &[Code::Unavailable]
);

/// The process answers (nothing else is checked).
#[utoipa::path(get, path = "/healthz", tag = "service",
    responses((status = 200, description = "The process answers.", body = Health)))]
async fn healthz() -> impl IntoResponse {
    axum::Json(Health { status: "ok" })
}

/// The service can take requests: the database answers and takes writes.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, description = "Ready.", body = Readiness), ReadyzErrors))]
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state
        .store
        .ready(jiff::Timestamp::now().as_millisecond())
        .await
        .map_err(|_| {
            ApiError::unavailable("the database does not answer, or does not take writes")
        })?;
    Ok((
        StatusCode::OK,
        axum::Json(Readiness {
            status: "ready",
            database: state.store.backend_name(),
            intents: state.rules.current().intents().len(),
            rules_version: state.rules.current().version().to_owned(),
        }),
    ))
}
