//! `GET /metrics`: the Prometheus text format, behind `metrics_token` when
//! one is set; and the middleware that times every request by its route.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::bearer;
use super::{ApiError, AppState, Code};
use crate::secret::same_secret;
use crate::telemetry::{self, MAIL_OUTBOX, OUTBOX, OUTBOX_OLDEST, REQUESTS, STREAMS};

/// Times a request under its route's pattern (not its path: ids would
/// make a series per conversation).
pub async fn time_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // A method is a client's word: only the usual ones become series.
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::histogram!(
        REQUESTS,
        "route" => route,
        "method" => method,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

api_errors!(
    /// `GET /metrics`.
    MetricsErrors = &[Code::Unauthorized, Code::Unavailable, Code::Internal],
);

/// The metrics, with what the database knows read now. Served here, or
/// only on `metrics_listen` when that is set (then this document does not
/// list it).
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "The Prometheus text format (`madoguchi_*`).",
        content_type = "text/plain; version=0.0.4", body = String), MetricsErrors),
    security((), ("metrics_token" = [])))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(token) = &state.settings.metrics_token
        && !same_secret(bearer(&headers)?, token.expose())
    {
        return Err(ApiError::unauthorized("wrong metrics token"));
    }
    let Some(recorder) = telemetry::recorder() else {
        return Err(ApiError::unavailable(
            "another metrics recorder is installed in this process",
        ));
    };
    read_gauges(&state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        recorder.render(),
    ))
}

async fn read_gauges(state: &AppState) -> Result<(), ApiError> {
    // A status with nothing in it is not in the counts: it is 0, not what
    // it was at the last scrape.
    for status in ["pending", "delivered", "dead"] {
        metrics::gauge!(OUTBOX, "status" => status).set(0.0);
    }
    for status in ["pending", "sent", "dead", "held"] {
        metrics::gauge!(MAIL_OUTBOX, "status" => status).set(0.0);
    }
    for (status, n) in state.store.handoff_counts().await? {
        metrics::gauge!(OUTBOX, "status" => status.as_str()).set(n as f64);
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let oldest = state
        .store
        .oldest_pending_handoff()
        .await?
        .map_or(0.0, |at| (now - at).max(0) as f64 / 1000.0);
    metrics::gauge!(OUTBOX_OLDEST).set(oldest);
    for (status, n) in state.store.mail_outbox_counts().await? {
        metrics::gauge!(MAIL_OUTBOX, "status" => status).set(n as f64);
    }
    metrics::gauge!(STREAMS).set(state.events.streams() as f64);
    Ok(())
}
