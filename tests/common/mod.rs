//! What the integration tests share: fresh databases of both kinds.

#![allow(dead_code)]
// Test helpers, outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use madoguchi::store::{Durability, Store};

/// The database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database: a SQLite file in a temporary folder, or a new
/// schema of the PostgreSQL database at `MADOGUCHI_TEST_DATABASE_URL`.
/// `None` (with a visible note) when PostgreSQL is asked for and the
/// variable is unset.
pub struct FreshDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl FreshDb {
    /// A SQLite database file in `dir`, which the test owns.
    pub fn sqlite_in(dir: &std::path::Path) -> FreshDb {
        FreshDb {
            url: format!("sqlite://{}", dir.join("madoguchi.db").display()),
            _dir: None,
        }
    }
}

/// A small disk of its own (a tmpfs), so that a test can fill it: mounted
/// when the test runs as root, unmounted when dropped.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts `megabytes` of tmpfs, or says on the terminal why it cannot.
    pub fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("SKIPPED: the full-disk test; it mounts a small tmpfs, which needs root");
            return None;
        }
        Some(SmallDisk { dir })
    }

    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Fills what is left with a file.
    pub fn fill(&self) {
        use std::io::Write as _;
        let mut filler = std::fs::File::create(self.dir.path().join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while filler.write_all(&block).is_ok() {}
        let small = [0u8; 512];
        while filler.write_all(&small).is_ok() {}
        let _ = filler.flush();
    }

    /// Makes room again.
    pub fn free(&self) {
        std::fs::remove_file(self.dir.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

pub async fn fresh_db(db: Db) -> Option<FreshDb> {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("madoguchi.db").display());
            Some(FreshDb {
                url,
                _dir: Some(dir),
            })
        }
        Db::Postgres => {
            let Ok(base) = std::env::var("MADOGUCHI_TEST_DATABASE_URL") else {
                say_postgres_skipped();
                return None;
            };
            let schema = format!("t{}", random_hex(8));
            let pool = sqlx::PgPool::connect(&base)
                .await
                .expect("PostgreSQL reachable");
            // The schema name is ours: `t` and hex digits.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&pool)
                .await
                .expect("create schema");
            pool.close().await;
            let separator = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
            Some(FreshDb { url, _dir: None })
        }
    }
}

/// Says once per test binary, on the terminal itself (the test harness
/// captures `eprintln!` of passing tests), that the PostgreSQL tests did
/// not run.
fn say_postgres_skipped() {
    use std::io::Write as _;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: the PostgreSQL half of these tests; set MADOGUCHI_TEST_DATABASE_URL (postgres://...) to run it"
        );
    });
}

pub async fn store(db: Db) -> Option<(Store, FreshDb)> {
    let fresh = fresh_db(db).await?;
    let store = Store::connect(&fresh.url.parse().unwrap(), Durability::Normal)
        .await
        .expect("connects and migrates");
    Some((store, fresh))
}

pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("randomness");
    hex::encode(buffer)
}

/// Runs an async test body once per database: `both_databases!(name, body_fn)`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident => $body:ident;)*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$body($crate::common::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$body($crate::common::Db::Postgres).await;
                }
            )*
        }
    };
}

/// A running service on 127.0.0.1 with a port of its own and a fresh
/// database, stopped when the test asks or ends.
pub struct TestApp {
    pub address: String,
    /// The router's `Debug` form, which names every route it serves.
    pub routes: String,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub identity_secret: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    db: Option<FreshDb>,
}

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const IDENTITY_SECRET: &str = "test-identity-secret";

/// The example rules, with `overrides` on top of the default test
/// configuration (TOML keys).
pub async fn spawn_app_with(db: Db, overrides: &str) -> Option<TestApp> {
    Some(spawn_app_on(fresh_db(db).await?, overrides).await)
}

/// [`spawn_app_with`] on a database of the test's choosing.
pub async fn spawn_app_on(fresh: FreshDb, overrides: &str) -> TestApp {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    spawn_app_with_rules(fresh, &root.join("rules"), overrides).await
}

/// [`spawn_app_on`] with the rules at `rules`.
pub async fn spawn_app_with_rules(
    fresh: FreshDb,
    rules: &std::path::Path,
    overrides: &str,
) -> TestApp {
    let toml = format!(
        "listen = '127.0.0.1:0'\ndatabase_url = '{}'\nrules = '{}'\nadmin_token = '{ADMIN_TOKEN}'\nidentity_secret = '{IDENTITY_SECRET}'\n{overrides}\n",
        fresh.url,
        rules.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("madoguchi.toml");
    std::fs::write(&file, toml).expect("write config");
    let config = madoguchi::config::Config::load(Some(&file), &madoguchi::config::Flags::default())
        .expect("valid test configuration");
    let app = madoguchi::startup::Application::build(&config)
        .await
        .expect("the service starts");
    let address = format!("http://{}", app.address());
    let routes = format!("{:?}", app.router());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        address,
        routes,
        client: reqwest::Client::new(),
        admin_token: ADMIN_TOKEN.into(),
        identity_secret: IDENTITY_SECRET.into(),
        stop: Some(stop),
        server: Some(server),
        db: Some(fresh),
    }
}

pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, "").await
}

/// A started conversation: its id and token.
pub struct Started {
    pub id: String,
    pub token: String,
}

impl TestApp {
    /// The database the service runs on.
    pub fn database_url(&self) -> &str {
        self.db.as_ref().map_or("", |db| db.url.as_str())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn start(&self, body: serde_json::Value) -> Started {
        let response = self
            .client
            .post(self.url("/v1/conversations"))
            .json(&body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "{:?}", response.text().await);
        let body: serde_json::Value = response.json().await.expect("JSON");
        Started {
            id: body["id"].as_str().expect("id").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Opens the conversation's live event stream.
    pub async fn events(&self, conversation: &Started) -> reqwest::Response {
        let response = self
            .client
            .get(self.url(&format!("/v1/conversations/{}/events", conversation.id)))
            .bearer_auth(&conversation.token)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        response
    }

    pub async fn say(&self, conversation: &Started, text: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/v1/conversations/{}/messages", conversation.id)))
            .bearer_auth(&conversation.token)
            .json(&serde_json::json!({ "text": text }))
            .send()
            .await
            .expect("request")
    }

    pub async fn say_ok(&self, conversation: &Started, text: &str) -> serde_json::Value {
        let response = self.say(conversation, text).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        response.json().await.expect("JSON")
    }

    /// `GET path` with a conversation's token, as JSON.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `GET path` of the agent API, as JSON.
    pub async fn admin_json(&self, path: &str) -> serde_json::Value {
        self.admin(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// Stops the service gracefully and waits until it has.
    pub async fn stop(self) {
        self.stop_keeping_db().await;
    }

    /// Stops the service gracefully; its database stays for the test to
    /// look into.
    pub async fn stop_keeping_db(mut self) -> FreshDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("the server task ends")
                .expect("the server stops cleanly");
        }
        self.db.take().expect("the database")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The error code of an API error response.
pub async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// A ticket system on 127.0.0.1 that records every request and answers as
/// told: scripted answers first, then the default one.
pub struct Receiver {
    pub url: String,
    state: std::sync::Arc<ReceiverState>,
    _server: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

#[derive(Debug, Clone)]
pub enum Answer {
    /// Status, extra headers, body.
    Status(u16, Vec<(&'static str, String)>, String),
    /// Wait this long, then 200.
    Hang(std::time::Duration),
}

impl Answer {
    pub fn ok_with_ticket(id: &str) -> Self {
        Answer::Status(
            200,
            vec![],
            format!(r#"{{"ticket_id": "{id}", "url": "https://tickets.example/{id}"}}"#),
        )
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: std::sync::Mutex<Vec<Received>>,
    script: std::sync::Mutex<std::collections::VecDeque<Answer>>,
    default: std::sync::Mutex<Option<Answer>>,
}

impl Receiver {
    pub async fn start() -> Self {
        use axum::extract::State;
        let state = std::sync::Arc::new(ReceiverState::default());
        let handler = |State(state): State<std::sync::Arc<ReceiverState>>,
                       uri: axum::http::Uri,
                       headers: axum::http::HeaderMap,
                       body: String| async move {
            state.requests.lock().unwrap().push(Received {
                path: uri.path().to_owned(),
                headers,
                body,
            });
            let scripted = state.script.lock().unwrap().pop_front();
            let answer = scripted
                .or_else(|| state.default.lock().unwrap().clone())
                .unwrap_or_else(|| Answer::Status(200, vec![], "{}".into()));
            let (status, headers, body) = match answer {
                Answer::Status(status, headers, body) => (status, headers, body),
                Answer::Hang(wait) => {
                    tokio::time::sleep(wait).await;
                    (200, vec![], "{}".into())
                }
            };
            let mut response = axum::response::Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(axum::body::Body::from(body)).unwrap()
        };
        let app = axum::Router::new()
            .fallback(axum::routing::any(handler))
            .with_state(std::sync::Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            url,
            state,
            _server: server,
        }
    }

    /// Answers the next requests with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// Answers every request after the script with this.
    pub fn by_default(&self, answer: Answer) {
        *self.state.default.lock().unwrap() = Some(answer);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.requests.lock().unwrap().clone()
    }
}

/// An address where nothing listens.
pub async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// Runs `statement` on the database behind `url`, past the store.
pub async fn tamper(url: &str, statement: &'static str) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let connection = rusqlite::Connection::open(path).expect("open");
        connection.execute(statement, []).expect("tampered");
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        sqlx::query(statement)
            .execute(&pool)
            .await
            .expect("tampered");
        pool.close().await;
    }
}
