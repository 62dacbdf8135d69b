//! A load generator for the chat service: many customers talking at once.
//!
//! ```sh
//! MADOGUCHI_RATE_LIMITS=off cargo run --release -- serve &
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8080 \
//!     --connections 32 --conversations 200 --seconds 20
//! ```
//!
//! It starts `--conversations` conversations, then `--connections` workers
//! each own an equal share of them and send messages one after another —
//! like customers, each waits for the reply before writing again — cycling
//! through realistic Japanese and English support messages (questions,
//! thanks, details, complaints, requests for a person). It prints messages
//! per second and the latency percentiles of the message calls, and fails
//! if any call failed.

#![allow(missing_docs, clippy::pedantic)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What customers say: written for this generator, in both languages.
const MESSAGES: &[&str] = &[
    "こんにちは",
    "注文した商品がいつ届くか知りたいです",
    "送料はいくらですか",
    "パスワードを忘れてログインできません",
    "注文番号はHM-12345678です",
    "返品の方法を教えてください",
    "コンビニ払いの期限はいつまでですか",
    "ポイントの有効期限を知りたい",
    "ギフト包装はできますか",
    "ありがとうございました",
    "まだ届かないんですけど、どうなっていますか",
    "担当者と話したいです",
    "Hi, where is my order?",
    "How much is shipping to Osaka?",
    "I forgot my password",
    "Do you offer gift wrapping?",
    "Can I pay at a convenience store?",
    "My parcel still hasn't arrived and I'm getting annoyed",
    "Thanks for your help!",
    "Can I speak to a real person?",
    "what's the weather like tomorrow",
    "I'd like to return a shirt that doesn't fit",
];

struct Options {
    url: String,
    connections: usize,
    conversations: usize,
    seconds: u64,
}

fn options() -> Options {
    let mut options = Options {
        url: "http://127.0.0.1:8080".into(),
        connections: 32,
        conversations: 200,
        seconds: 20,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--url" => options.url = value,
            "--connections" => options.connections = value.parse().expect("a number"),
            "--conversations" => options.conversations = value.parse().expect("a number"),
            "--seconds" => options.seconds = value.parse().expect("a number"),
            other => panic!("unknown option {other}"),
        }
    }
    assert!(options.connections > 0 && options.conversations >= options.connections);
    options
}

#[derive(Clone)]
struct Conversation {
    id: String,
    token: String,
}

async fn start(client: &reqwest::Client, url: &str, n: usize) -> Conversation {
    let email = if n.is_multiple_of(2) {
        json!(format!("customer{n}@example.com"))
    } else {
        Value::Null
    };
    let response = client
        .post(format!("{url}/v1/conversations"))
        .json(&json!({ "email": email }))
        .send()
        .await
        .expect("the service answers");
    assert_eq!(response.status(), 201, "starting a conversation");
    let body: Value = response.json().await.expect("JSON");
    Conversation {
        id: body["id"].as_str().expect("id").to_owned(),
        token: body["token"].as_str().expect("token").to_owned(),
    }
}

struct WorkerResult {
    latencies: Vec<Duration>,
    errors: usize,
}

async fn worker(
    client: reqwest::Client,
    url: String,
    conversations: Vec<Conversation>,
    offset: usize,
    until: Instant,
) -> WorkerResult {
    let mut latencies = Vec::with_capacity(100_000);
    let mut errors = 0;
    let mut n = offset;
    while Instant::now() < until {
        let conversation = &conversations[n % conversations.len()];
        let text = MESSAGES[n % MESSAGES.len()];
        n += 1;
        let began = Instant::now();
        let response = client
            .post(format!(
                "{url}/v1/conversations/{}/messages",
                conversation.id
            ))
            .bearer_auth(&conversation.token)
            .json(&json!({ "text": text }))
            .send()
            .await;
        let ok = match response {
            Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
            _ => false,
        };
        latencies.push(began.elapsed());
        if !ok {
            errors += 1;
        }
    }
    WorkerResult { latencies, errors }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let options = options();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(options.connections)
        .build()
        .expect("a client");
    let mut conversations = Vec::with_capacity(options.conversations);
    for n in 0..options.conversations {
        conversations.push(start(&client, &options.url, n).await);
    }
    let until = Instant::now() + Duration::from_secs(options.seconds);
    let began = Instant::now();
    let mut workers = Vec::new();
    for w in 0..options.connections {
        // Each worker owns every `connections`-th conversation: one
        // customer never has two messages in flight.
        let own: Vec<Conversation> = conversations
            .iter()
            .skip(w)
            .step_by(options.connections)
            .cloned()
            .collect();
        workers.push(tokio::spawn(worker(
            client.clone(),
            options.url.clone(),
            own,
            w,
            until,
        )));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for w in workers {
        let result = w.await.expect("worker");
        latencies.extend(result.latencies);
        errors += result.errors;
    }
    let elapsed = began.elapsed();
    latencies.sort_unstable();
    let count = latencies.len();
    println!(
        "{count} messages in {:.1} s over {} connections and {} conversations: {:.0} messages/s",
        elapsed.as_secs_f64(),
        options.connections,
        options.conversations,
        count as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {errors} errors",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.90).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
