//! How long an agent's reply posted on one replica takes to reach a
//! customer listening on another.
//!
//! ```sh
//! # two replicas on one PostgreSQL database, as in BENCHMARKS.md
//! cargo run --release --example fanout -- --a http://127.0.0.1:18083 \
//!     --b http://127.0.0.1:18084 --admin-token bench-admin-token-0123 \
//!     --listeners 20 --replies 1000
//! ```
//!
//! It starts `--listeners` conversations on replica A and opens each one's
//! event stream there, then posts `--replies` agent replies through replica
//! B's agent API, one at a time and spread over the conversations, and
//! times each from the moment it is sent to B to the moment its text
//! arrives on A's stream (so the figure includes B storing the reply). It prints the percentiles and fails if a reply
//! does not arrive within ten seconds.

#![allow(missing_docs, clippy::pedantic)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Options {
    a: String,
    b: String,
    admin_token: String,
    listeners: usize,
    replies: usize,
}

fn options() -> Options {
    let mut options = Options {
        a: "http://127.0.0.1:18083".into(),
        b: "http://127.0.0.1:18084".into(),
        admin_token: String::new(),
        listeners: 20,
        replies: 1000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--a" => options.a = value,
            "--b" => options.b = value,
            "--admin-token" => options.admin_token = value,
            "--listeners" => options.listeners = value.parse().expect("a number"),
            "--replies" => options.replies = value.parse().expect("a number"),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(options.listeners > 0 && !options.admin_token.is_empty());
    options
}

/// Starts a conversation on `a` and forwards every marker seen on its event
/// stream, with the time it was seen.
async fn listen(
    client: &reqwest::Client,
    a: &str,
    seen: mpsc::UnboundedSender<(String, Instant)>,
) -> String {
    let started: Value = client
        .post(format!("{a}/v1/conversations"))
        .json(&json!({ "locale": "ja" }))
        .send()
        .await
        .expect("replica A answers")
        .json()
        .await
        .expect("a conversation");
    let id = started["id"].as_str().expect("an id").to_owned();
    let token = started["token"].as_str().expect("a token").to_owned();
    let stream = client
        .get(format!("{a}/v1/conversations/{id}/events"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the event stream opens");
    assert_eq!(stream.status(), 200, "event stream on A");
    tokio::spawn(async move {
        let mut body = stream.bytes_stream();
        let mut pending = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            let now = Instant::now();
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(start) = pending.find("[fanout-") {
                let Some(end) = pending[start..].find(']') else {
                    break;
                };
                let marker = pending[start..start + end + 1].to_owned();
                pending.drain(..start + end + 1);
                if seen.send((marker, now)).is_err() {
                    return;
                }
            }
        }
    });
    id
}

#[tokio::main]
async fn main() {
    let options = options();
    let client = reqwest::Client::new();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let mut conversations = Vec::new();
    for _ in 0..options.listeners {
        conversations.push(listen(&client, &options.a, seen_tx.clone()).await);
    }
    drop(seen_tx);
    // Let every stream be registered before the first reply.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut latencies = Vec::with_capacity(options.replies);
    let mut early: HashMap<String, Instant> = HashMap::new();
    for n in 0..options.replies {
        let id = &conversations[n % conversations.len()];
        let marker = format!("[fanout-{n}]");
        let sent = Instant::now();
        let posted = client
            .post(format!(
                "{}/v1/admin/conversations/{id}/messages",
                options.b
            ))
            .bearer_auth(&options.admin_token)
            .json(&json!({ "agent": "佐藤", "text": format!("担当の佐藤です。{marker}") }))
            .send()
            .await
            .expect("replica B answers");
        assert_eq!(posted.status(), 201, "agent reply on B");
        let arrived = match early.remove(&marker) {
            Some(at) => at,
            None => tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    let (seen, at) = seen_rx.recv().await.expect("streams open");
                    if seen == marker {
                        return at;
                    }
                    early.insert(seen, at);
                }
            })
            .await
            .unwrap_or_else(|_| panic!("{marker} did not reach replica A in 10 s")),
        };
        latencies.push(arrived.saturating_duration_since(sent));
    }
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    println!(
        "{} replies over {} conversations: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        conversations.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0)
    );
}
