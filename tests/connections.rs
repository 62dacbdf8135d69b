//! Connections that take without giving are closed: headers sent too
//! slowly, a body trickled in, a kept-alive connection left idle, and
//! connections over the limit. Live event streams stay open. Raw TCP
//! against the real service.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Db, spawn_app_with};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const QUICK: &str = "header_timeout_seconds = 1\nbody_timeout_seconds = 1";

async fn connect(app: &common::TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the service closes the connection; how long that took, or
/// `None` if it stayed open for `patience`.
async fn closed_within(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let began = Instant::now();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(patience, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return began.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .ok()
}

#[tokio::test]
async fn headers_sent_too_slowly_close_the_connection() {
    let app = spawn_app_with(Db::Sqlite, QUICK).await.unwrap();
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: madoguchi\r\n")
        .await
        .unwrap();
    let closed = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "half a request held the connection");
    app.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = spawn_app_with(Db::Sqlite, QUICK).await.unwrap();
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: madoguchi\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 1024];
    let read = stream.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
    let closed = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "an idle connection stayed open");
    app.stop().await;
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = spawn_app_with(Db::Sqlite, QUICK).await.unwrap();
    let mut silent = connect(&app).await;
    let closed = closed_within(&mut silent, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a silent connection stayed open");
    let mut preface = connect(&app).await;
    preface.write_all(b"PRI * HT").await.unwrap();
    let closed = closed_within(&mut preface, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "a partial preface held the connection");
    app.stop().await;
}

#[tokio::test]
async fn a_trickled_body_is_refused_by_its_deadline() {
    let app = spawn_app_with(Db::Sqlite, QUICK).await.unwrap();
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /v1/conversations HTTP/1.1\r\nHost: madoguchi\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        )
        .await
        .unwrap();
    let began = Instant::now();
    // A byte every 300 ms: each well within a second, the whole never.
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..20 {
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buffer = [0u8; 1024];
        while let Ok(read) = reader.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..read]);
            if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    trickle.abort();
    assert!(
        began.elapsed() < Duration::from_secs(4),
        "the trickle held the request"
    );
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    app.stop().await;
}

#[tokio::test]
async fn a_live_stream_outlives_the_idle_deadline() {
    let app = spawn_app_with(Db::Sqlite, QUICK).await.unwrap();
    let conversation = app.start(json!({})).await;
    let mut body = app.events(&conversation).await.bytes_stream();
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_err(), "the stream was closed as idle");
    app.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_and_places_come_back() {
    let app = spawn_app_with(
        Db::Sqlite,
        "max_connections = 2\nheader_timeout_seconds = 30",
    )
    .await
    .unwrap();
    let mut first = connect(&app).await;
    let _second = connect(&app).await;
    // Both places are taken before the third comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = connect(&app).await;
    let closed = closed_within(&mut third, Duration::from_secs(2)).await;
    assert!(closed.is_some(), "a third connection was kept");
    first.shutdown().await.unwrap();
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = connect(&app).await;
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: madoguchi\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    fourth.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop().await;
}
