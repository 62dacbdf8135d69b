//! Serving the router on a listener: HTTP/1.1 and HTTP/2 connections, each
//! with a deadline for its request headers (which also closes a kept-alive
//! connection left idle), at most so many at once, and a graceful stop.
//!
//! A client that sends its headers a byte at a time, or opens connections
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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

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
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(connections.header_timeout);
    builder.http2().timer(TokioTimer::new());
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
            tracing::warn!(%peer, "too many connections: closed");
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
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(place);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
