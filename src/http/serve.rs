//! Serving the router on a listener: HTTP/1.1 connections, each with a
//! deadline for its request headers that runs from the moment the
//! connection is ready for a request (so it also closes a connection that
//! sends nothing, and a kept-alive one left idle), at most so many at once,
//! and a graceful stop.
//!
//! HTTP/1.1 only: browsers reach the service through a proxy that speaks
//! HTTP/2 or 3 to them, and a server that first reads to tell the versions
//! apart would wait, without a deadline, on a client that sends nothing. A
//! client that sends its headers a byte at a time, or opens connections
//! and sends nothing, holds no more than the deadline and its one place
//! among the connections. Live event streams are responses under way, not
//! idle connections: their heartbeats keep them open.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// The longest a stop waits for the requests in flight.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// How connections are held to account.
#[derive(Debug, Clone, Copy)]
pub struct Connections {
    /// Open at once; more are closed as soon as they are accepted.
    pub max: usize,
    /// For a request's headers, and for an idle kept-alive connection.
    pub header_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes, then stops
/// taking connections and waits for the requests in flight (live streams
/// end by themselves on the same signal).
///
/// # Errors
/// When the listener fails.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    connections: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(connections.header_timeout);
    let places = Arc::new(Semaphore::new(connections.max));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A connection that failed before it was accepted (reset,
                // out of descriptors for a moment) is the client's loss only.
                Err(err) => {
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(place) = Arc::clone(&places).try_acquire_owned() else {
            // Not a warning each: under a flood that would be a flood too.
            tracing::debug!(%peer, "too many connections: closed");
            continue;
        };
        let router = router.clone();
        // The client's address, for the rate limits.
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move {
                let response = router.oneshot(request.map(axum::body::Body::new)).await;
                Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
            }
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(place);
        });
    }
    drop(listener);
    // Requests in flight finish; a client that holds its connection past
    // this is cut off.
    if tokio::time::timeout(STOP_WAIT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {STOP_WAIT:?} of stopping: closed");
    }
    Ok(())
}

/// The body of a request that must arrive whole by a deadline: the error
/// the extractors then meet (a `400`), however the body is trickled in.
/// (A per-chunk timeout lets a client send a byte just often enough.)
pub(super) async fn body_deadline(
    axum::extract::State(within): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let deadline = tokio::time::Instant::now() + within;
    let (parts, body) = request.into_parts();
    let chunks =
        futures_util::stream::unfold(Some(body.into_data_stream()), move |chunks| async move {
            let mut chunks = chunks?;
            match tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut chunks))
                .await
            {
                Ok(Some(chunk)) => Some((chunk, Some(chunks))),
                Ok(None) => None,
                Err(_) => Some((Err(axum::Error::new(BodyTooSlow(within))), None)),
            }
        });
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from_stream(chunks));
    next.run(request).await
}

/// The request body did not arrive whole in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not sent within {0:?}")]
struct BodyTooSlow(Duration);
