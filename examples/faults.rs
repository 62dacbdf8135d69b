//! The fault suite: runs the real service (`target/release/madoguchi
//! serve`, one process per scenario) against a real webhook receiver, does
//! to it what networks, disks and operators do, and counts what was
//! acknowledged against what was kept and delivered.
//!
//! ```sh
//! cargo build --release --bin madoguchi --example faults
//! target/release/examples/faults
//! ```
//!
//! Scenarios: kill -9 during a burst of escalations (then a restart); a
//! webhook that is down, one that redirects, one that hangs; a full disk
//! (a small tmpfs, when the machine lets it be mounted); many messages at
//! once on one conversation; a burst of new conversations from one address
//! against the rate limits. Targets: no acknowledged message lost, no
//! handoff lost (each is delivered or dead-lettered, visibly), no 5xx other
//! than 503, every limit answered 429 with a JSON error. Prints one line
//! per scenario and exits 1 when a target is missed.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "fault-suite-admin-token";
const HUMAN: &str = "人と話したい";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ok,
    Down,
    Redirect,
    Hang,
}

#[derive(Default)]
struct Received {
    mode: Mutex<Option<Mode>>,
    /// Every `webhook-id` received, in order (a retry received twice).
    ids: Mutex<Vec<String>>,
}

/// A ticket system on loopback that records handoffs.
struct Receiver {
    url: String,
    state: Arc<Received>,
}

impl Receiver {
    async fn start() -> Result<Self, Error> {
        let state = Arc::new(Received::default());
        let app = axum::Router::new()
            .fallback(axum::routing::any(receive))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        let receiver = Receiver { url, state };
        receiver.set(Mode::Ok);
        Ok(receiver)
    }

    fn set(&self, mode: Mode) {
        *self
            .state
            .mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(mode);
    }

    fn ids(&self) -> Vec<String> {
        self.state
            .ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

async fn receive(
    State(state): State<Arc<Received>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> impl IntoResponse {
    if uri.path() == "/moved" {
        // Where a redirect points: it takes anything, and records nothing.
        return (StatusCode::OK, HeaderMap::new(), "{}".to_owned());
    }
    let mode = (*state
        .mode
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner))
    .unwrap_or(Mode::Ok);
    match mode {
        Mode::Down => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                HeaderMap::new(),
                String::new(),
            );
        }
        Mode::Redirect => {
            let mut moved = HeaderMap::new();
            // Somewhere that would take it: a service that followed the
            // redirect would count the handoff as delivered there.
            if let Some(host) = headers.get("host").and_then(|h| h.to_str().ok())
                && let Ok(location) = format!("http://{host}/moved").parse()
            {
                moved.insert("location", location);
            }
            return (StatusCode::FOUND, moved, String::new());
        }
        Mode::Hang => tokio::time::sleep(Duration::from_secs(3)).await,
        Mode::Ok => {}
    }
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        state
            .ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(id.to_owned());
    }
    (StatusCode::OK, HeaderMap::new(), "{}".to_owned())
}

/// One run of `madoguchi serve`, on a database that outlives it.
struct Service {
    binary: PathBuf,
    config: PathBuf,
    url: String,
    child: Option<Child>,
}

impl Service {
    fn new(binary: &Path, dir: &Path, database: &str, extra: &str) -> Result<Self, Error> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let config = dir.join("madoguchi.toml");
        std::fs::write(
            &config,
            format!(
                "listen = '127.0.0.1:{port}'\ndatabase_url = '{database}'\nrules = '{}'\n\
                 admin_token = '{ADMIN_TOKEN}'\nwebhook_timeout_seconds = 1\n\
                 webhook_retry_schedule = ['1s', '1s', '1s', '1s', '1s']\nwebhook_jitter = 0.0\n{extra}\n",
                rules.display()
            ),
        )?;
        Ok(Service {
            binary: binary.to_owned(),
            config,
            url: format!("http://127.0.0.1:{port}"),
            child: None,
        })
    }

    async fn start(&mut self) -> Result<(), Error> {
        let child = Command::new(&self.binary)
            .args(["serve", "--config"])
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if client
                .get(format!("{}/healthz", self.url))
                .send()
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("the service did not start".into())
    }

    /// `kill -9`: no goodbye.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, and wait for the graceful stop.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client of the service.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    url: String,
}

struct Conversation {
    id: String,
    token: String,
}

impl Client {
    fn new(url: &str) -> Self {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap_or_default(),
            url: url.to_owned(),
        }
    }

    async fn start(&self) -> Result<Conversation, Error> {
        let body: Value = self
            .http
            .post(format!("{}/v1/conversations", self.url))
            .json(&json!({ "email": "fault@example.jp" }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Conversation {
            id: body["id"].as_str().unwrap_or_default().to_owned(),
            token: body["token"].as_str().unwrap_or_default().to_owned(),
        })
    }

    /// Sends a message; the status, or `None` when no answer came.
    async fn say(&self, conversation: &Conversation, text: &str) -> Option<u16> {
        self.http
            .post(format!(
                "{}/v1/conversations/{}/messages",
                self.url, conversation.id
            ))
            .bearer_auth(&conversation.token)
            .json(&json!({ "text": text }))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    /// The customer's messages kept in a conversation.
    async fn kept(&self, conversation: &Conversation) -> Result<Vec<String>, Error> {
        let body: Value = self
            .http
            .get(format!("{}/v1/conversations/{}", self.url, conversation.id))
            .bearer_auth(&conversation.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter(|m| m["author"] == "customer")
                    .filter_map(|m| m["text"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The outbox: every handoff, by status.
    async fn handoffs(&self) -> Result<Vec<(String, String, String)>, Error> {
        let body: Value = self
            .http
            .get(format!("{}/v1/admin/handoffs?limit=500", self.url))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(body["handoffs"]
            .as_array()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let text = |k: &str| h[k].as_str().unwrap_or_default().to_owned();
                        (text("id"), text("conversation_id"), text("status"))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// What a scenario counted.
#[derive(Debug, Default)]
struct Tally {
    acknowledged: usize,
    stored: usize,
    handoffs_created: usize,
    handoffs_received: usize,
    duplicates: usize,
    dead_lettered: usize,
    lost_handoffs: usize,
    other_5xx: usize,
    limited: usize,
    /// Answers other than the fault calls for: a limit without 429 JSON and
    /// Retry-After, no recovery once the fault is gone.
    wrong_answers: usize,
    statuses: BTreeMap<u16, usize>,
}

impl Tally {
    fn count(&mut self, status: Option<u16>) {
        let status = status.unwrap_or(0);
        *self.statuses.entry(status).or_default() += 1;
        if status >= 500 && status != 503 {
            self.other_5xx += 1;
        }
    }

    fn passed(&self) -> bool {
        self.acknowledged == self.stored
            && self.lost_handoffs == 0
            && self.other_5xx == 0
            && self.wrong_answers == 0
    }

    fn line(&self, name: &str) -> String {
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| {
                if *s == 0 {
                    format!("no answer ×{n}")
                } else {
                    format!("{s} ×{n}")
                }
            })
            .collect();
        format!(
            "| {name} | {} / {} | {} / {} | {} | {} | {} | {} | {} | {} |",
            self.acknowledged,
            self.stored,
            self.handoffs_created,
            self.handoffs_received,
            self.duplicates,
            self.dead_lettered,
            self.lost_handoffs,
            self.other_5xx,
            statuses.join(", "),
            if self.passed() { "ok" } else { "MISSED" }
        )
    }
}

/// Escalates `conversations` in parallel; the conversations whose
/// escalation was acknowledged.
async fn escalate(
    client: &Client,
    conversations: Vec<Conversation>,
    tally: &mut Tally,
) -> Vec<Conversation> {
    let sends = conversations.into_iter().map(|c| {
        let client = client.clone();
        async move {
            let status = client.say(&c, HUMAN).await;
            (c, status)
        }
    });
    let mut acknowledged = Vec::new();
    for (conversation, status) in futures_util::future::join_all(sends).await {
        tally.count(status);
        if status == Some(200) {
            tally.acknowledged += 1;
            acknowledged.push(conversation);
        }
    }
    acknowledged
}

/// Checks that every acknowledged message is kept, and that each of their
/// handoffs reached the receiver or is dead-lettered.
async fn settle(
    client: &Client,
    receiver: &Receiver,
    acknowledged: &[Conversation],
    tally: &mut Tally,
    patience: Duration,
) -> Result<(), Error> {
    for conversation in acknowledged {
        if client.kept(conversation).await?.iter().any(|t| t == HUMAN) {
            tally.stored += 1;
        }
    }
    let wanted: HashSet<&str> = acknowledged.iter().map(|c| c.id.as_str()).collect();
    let began = Instant::now();
    loop {
        let handoffs = client.handoffs().await?;
        let mine: Vec<_> = handoffs
            .iter()
            .filter(|(_, conversation, _)| wanted.contains(conversation.as_str()))
            .collect();
        let settled = mine.iter().all(|(_, _, status)| status != "pending");
        if (settled && mine.len() >= wanted.len()) || began.elapsed() > patience {
            let deliveries: Vec<String> = receiver.ids();
            let unique: HashSet<&String> = deliveries.iter().collect();
            tally.handoffs_created = mine.len();
            tally.handoffs_received = mine.iter().filter(|(id, _, _)| unique.contains(id)).count();
            tally.duplicates = deliveries.len() - unique.len();
            tally.dead_lettered = mine.iter().filter(|(_, _, s)| s == "dead").count();
            let covered: HashSet<&str> = mine.iter().map(|(_, c, _)| c.as_str()).collect();
            let without_handoff = wanted.iter().filter(|c| !covered.contains(*c)).count();
            let neither = mine
                .iter()
                .filter(|(id, _, status)| status != "dead" && !unique.contains(id))
                .count();
            tally.lost_handoffs = without_handoff + neither;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn conversations(client: &Client, n: usize) -> Result<Vec<Conversation>, Error> {
    let mut found = Vec::with_capacity(n);
    for _ in 0..n {
        found.push(client.start().await?);
    }
    Ok(found)
}

async fn kill_during_escalations(binary: &Path) -> Result<Tally, Error> {
    let dir = tempfile::tempdir()?;
    let receiver = Receiver::start().await?;
    let database = format!("sqlite://{}", dir.path().join("faults.db").display());
    let extra = format!("webhook_url = '{}'\nrate_limits = 'off'", receiver.url);
    let mut service = Service::new(binary, dir.path(), &database, &extra)?;
    service.start().await?;
    let client = Client::new(&service.url);
    let mut tally = Tally::default();
    let mut all = conversations(&client, 400).await?;
    let later = all.split_off(300);
    // The kill comes while the first burst is under way: some escalations
    // are answered, some cut off.
    let burst = escalate(&client, all, &mut tally);
    let killer = async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        service.kill();
    };
    let (mut acknowledged, ()) = tokio::join!(burst, killer);
    service.start().await?;
    acknowledged.extend(escalate(&client, later, &mut tally).await);
    // A handoff the killed process was delivering is held by its lease (two
    // minutes), then taken again: the wait outlasts the lease.
    settle(
        &client,
        &receiver,
        &acknowledged,
        &mut tally,
        Duration::from_mins(3),
    )
    .await?;
    service.stop();
    Ok(tally)
}

async fn webhook_trouble(binary: &Path, mode: Mode, lasts: Duration) -> Result<Tally, Error> {
    let dir = tempfile::tempdir()?;
    let receiver = Receiver::start().await?;
    receiver.set(mode);
    let database = format!("sqlite://{}", dir.path().join("faults.db").display());
    let extra = format!("webhook_url = '{}'\nrate_limits = 'off'", receiver.url);
    let mut service = Service::new(binary, dir.path(), &database, &extra)?;
    service.start().await?;
    let client = Client::new(&service.url);
    let mut tally = Tally::default();
    let started = conversations(&client, 20).await?;
    let acknowledged = escalate(&client, started, &mut tally).await;
    tokio::time::sleep(lasts).await;
    receiver.set(Mode::Ok);
    settle(
        &client,
        &receiver,
        &acknowledged,
        &mut tally,
        Duration::from_secs(30),
    )
    .await?;
    service.stop();
    Ok(tally)
}

async fn many_at_once_on_one_conversation(binary: &Path) -> Result<Tally, Error> {
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("faults.db").display());
    let mut service = Service::new(binary, dir.path(), &database, "rate_limits = 'off'")?;
    service.start().await?;
    let client = Client::new(&service.url);
    let conversation = client.start().await?;
    let mut tally = Tally::default();
    let texts: Vec<String> = (0..150)
        .map(|n| format!("送料はいくらですか #{n}"))
        .collect();
    let sends = texts.iter().map(|t| client.say(&conversation, t));
    let statuses = futures_util::future::join_all(sends).await;
    let mut acknowledged = HashSet::new();
    for (text, status) in texts.iter().zip(statuses) {
        tally.count(status);
        if status == Some(200) {
            tally.acknowledged += 1;
            acknowledged.insert(text.clone());
        }
    }
    tally.stored = client
        .kept(&conversation)
        .await?
        .iter()
        .filter(|t| acknowledged.contains(*t))
        .count();
    service.stop();
    Ok(tally)
}

async fn full_disk(binary: &Path) -> Result<Option<Tally>, Error> {
    let dir = tempfile::tempdir()?;
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(dir.path())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        return Ok(None);
    }
    let result = full_disk_on(binary, dir.path()).await;
    let _ = Command::new("umount").arg("-l").arg(dir.path()).status();
    result.map(Some)
}

async fn full_disk_on(binary: &Path, disk: &Path) -> Result<Tally, Error> {
    let config_dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", disk.join("faults.db").display());
    let mut service = Service::new(binary, config_dir.path(), &database, "rate_limits = 'off'")?;
    service.start().await?;
    let client = Client::new(&service.url);
    let conversation = client.start().await?;
    let filler = disk.join("filler");
    {
        use std::io::Write as _;
        let mut file = std::fs::File::create(&filler)?;
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        while file.write_all(&[0u8; 512]).is_ok() {}
    }
    let mut tally = Tally::default();
    let long = "配送状況を確認できますか。".repeat(200);
    let mut acknowledged = HashSet::new();
    for n in 0..300 {
        let text = format!("{long} #{n}");
        let status = client.say(&conversation, &text).await;
        tally.count(status);
        if status == Some(200) {
            tally.acknowledged += 1;
            acknowledged.insert(text);
        }
    }
    std::fs::remove_file(&filler)?;
    // Ready again once there is room, and taking messages.
    for _ in 0..50 {
        let ready = client
            .http
            .get(format!("{}/readyz", service.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = "送料はいくらですか".to_owned();
    let status = client.say(&conversation, &text).await;
    tally.count(status);
    if status == Some(200) {
        tally.acknowledged += 1;
        acknowledged.insert(text);
    } else {
        tally.wrong_answers += 1;
    }
    tally.stored = client
        .kept(&conversation)
        .await?
        .iter()
        .filter(|t| acknowledged.contains(*t))
        .count();
    service.stop();
    Ok(tally)
}

async fn limits(binary: &Path) -> Result<Tally, Error> {
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}", dir.path().join("faults.db").display());
    let mut service = Service::new(
        binary,
        dir.path(),
        &database,
        "rate_limit_starts_per_minute = 10\nrate_limit_messages_per_minute = 10\n\
         max_messages_per_conversation = 12",
    )?;
    service.start().await?;
    let client = Client::new(&service.url);
    let mut tally = Tally::default();
    // The first conversation is the one messages go to.
    let first = client.start().await?;
    tally.count(Some(201));
    for _ in 1..40 {
        let response = client
            .http
            .post(format!("{}/v1/conversations", client.url))
            .json(&json!({}))
            .send()
            .await
            .ok();
        check_limit(response, &mut tally, "rate_limited").await;
    }
    // Its messages over their rate, and over its cap of twelve messages
    // (six turns).
    for _ in 0..20 {
        let response = client
            .http
            .post(format!(
                "{}/v1/conversations/{}/messages",
                client.url, first.id
            ))
            .bearer_auth(&first.token)
            .json(&json!({ "text": "送料はいくらですか" }))
            .send()
            .await
            .ok();
        if response.as_ref().is_some_and(|r| r.status() == 200) {
            tally.acknowledged += 1;
        }
        check_limit(response, &mut tally, "").await;
    }
    tally.stored = client
        .kept(&first)
        .await?
        .iter()
        .filter(|t| *t == "送料はいくらですか")
        .count();
    if tally.limited == 0 {
        tally.wrong_answers += 1;
    }
    service.stop();
    Ok(tally)
}

/// Counts an answer; a 429 must be JSON with the `code` expected (any
/// limit's when empty) and, for a rate limit, `Retry-After`.
async fn check_limit(response: Option<reqwest::Response>, tally: &mut Tally, code: &str) {
    tally.count(response.as_ref().map(|r| r.status().as_u16()));
    let Some(response) = response.filter(|r| r.status() == 429) else {
        return;
    };
    tally.limited += 1;
    let retry_after = response.headers().contains_key("retry-after");
    let body: Value = response.json().await.unwrap_or_default();
    let found = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let right = match found.as_str() {
        "rate_limited" => retry_after && (code.is_empty() || code == found),
        "message_limit" => code.is_empty(),
        _ => false,
    };
    if !right {
        tally.wrong_answers += 1;
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let binary = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/release/madoguchi"), PathBuf::from);
    if !binary.exists() {
        return Err(format!(
            "{} is not built: cargo build --release --bin madoguchi",
            binary.display()
        )
        .into());
    }
    println!(
        "| scenario | messages acknowledged / stored | handoffs created / received | duplicate deliveries | dead-lettered | handoffs lost | 5xx other than 503 | answers | result |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |");
    let mut all_passed = true;
    let mut report = |name: &str, tally: &Tally| {
        all_passed &= tally.passed();
        println!("{}", tally.line(name));
    };
    report(
        "kill -9 during a burst of escalations, then a restart",
        &kill_during_escalations(&binary).await?,
    );
    report(
        "webhook down (503) for 3 s",
        &webhook_trouble(&binary, Mode::Down, Duration::from_secs(3)).await?,
    );
    report(
        "webhook hanging past its timeout for 3 s",
        &webhook_trouble(&binary, Mode::Hang, Duration::from_secs(3)).await?,
    );
    report(
        "webhook redirecting (302) until dead-lettered",
        &webhook_trouble(&binary, Mode::Redirect, Duration::from_secs(8)).await?,
    );
    report(
        "150 messages at once on one conversation",
        &many_at_once_on_one_conversation(&binary).await?,
    );
    match full_disk(&binary).await? {
        Some(tally) => report(
            "disk full (8 MiB tmpfs), then room again and one more message",
            &tally,
        ),
        None => println!("| disk full | skipped: mounting a tmpfs needs root | | | | | | | |"),
    }
    report(
        "40 new conversations from one address (limit 10/min), then 20 messages to one (limit 10/min, cap 12 messages)",
        &limits(&binary).await?,
    );
    if all_passed {
        Ok(())
    } else {
        Err("a target was missed".into())
    }
}
