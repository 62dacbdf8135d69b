//! Reloading the rules while the service runs: by the agent API, on a
//! change of the files, on SIGHUP; a rule set that does not load is
//! refused with every problem, and the one in force keeps serving.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Db, TestApp, fresh_db, spawn_app_with_rules};
use serde_json::Value;

const SHOP: &str = r"
locales: [ja, en]
intents:
  - id: order_status
    match:
      ja: { any: [届かない, 配送状況] }
      en: { any: [where is my order] }
    answer: { ja: 配送状況をお調べします。, en: We'll check on your order. }
    examples: { ja: [荷物が届かない], en: [Where is my order?] }
";

const GIFT: &str = r"
intents:
  - id: gift_wrap
    match:
      ja: { any: [ラッピング] }
      en: { any: [gift wrap] }
    answer: { ja: ラッピングは無料です。, en: Gift wrapping is free. }
    examples: { ja: [ラッピングできますか], en: [Can you gift wrap it?] }
";

/// A gift intent with a broken regex on line 6 and an answer that names
/// an unknown shop value.
const BROKEN: &str = r"
intents:
  - id: gift_wrap
    match:
      ja: { any: [ラッピング] }
      regex: ['(unclosed']
    answer: { ja: '{{ shop.nothing }}', en: Gift wrapping is free. }
";

fn rules_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shop.yaml"), SHOP).unwrap();
    dir
}

async fn app(rules: &Path, overrides: &str) -> TestApp {
    let fresh = fresh_db(Db::Sqlite).await.unwrap();
    spawn_app_with_rules(fresh, rules, overrides).await
}

async fn reload(app: &TestApp) -> (u16, Value) {
    let response = app
        .admin(reqwest::Method::POST, "/v1/admin/rules/reload")
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn version(app: &TestApp) -> String {
    let ready: Value = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ready["rules_version"].as_str().unwrap().to_owned()
}

/// The intent the service takes `text` as, in a new conversation.
async fn intent(app: &TestApp, text: &str) -> Value {
    let conversation = app.start(serde_json::json!({})).await;
    app.say_ok(&conversation, text).await["intent"].clone()
}

#[tokio::test]
async fn the_api_reloads_new_rules_and_refuses_broken_ones() {
    let dir = rules_dir();
    let app = app(dir.path(), "rules_watch = 'off'").await;
    let first = version(&app).await;
    let (status, unchanged) = reload(&app).await;
    assert_eq!(status, 200, "{unchanged}");
    assert_eq!(unchanged["changed"], false);
    assert_eq!(unchanged["version"], first.as_str());
    assert_eq!(intent(&app, "ラッピングできますか").await, Value::Null);

    std::fs::write(dir.path().join("gift.yaml"), GIFT).unwrap();
    let (status, reloaded) = reload(&app).await;
    assert_eq!(status, 200, "{reloaded}");
    assert_eq!(reloaded["changed"], true);
    assert_ne!(reloaded["version"], first.as_str());
    assert_eq!(version(&app).await, reloaded["version"].as_str().unwrap());
    assert_eq!(intent(&app, "ラッピングできますか").await, "gift_wrap");

    // A broken file: refused with each problem and its place; the rules in
    // force keep answering.
    std::fs::write(dir.path().join("gift.yaml"), BROKEN).unwrap();
    let (status, refused) = reload(&app).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "rules_invalid");
    let errors = refused["error"]["errors"].as_array().unwrap();
    assert!(!errors.is_empty(), "{refused}");
    for error in errors {
        assert!(
            error["path"].as_str().unwrap().ends_with("gift.yaml"),
            "{error}"
        );
        assert!(error["line"].as_u64().unwrap() >= 1, "{error}");
        assert!(error["column"].as_u64().unwrap() >= 1, "{error}");
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(version(&app).await, reloaded["version"].as_str().unwrap());
    assert_eq!(intent(&app, "ラッピングできますか").await, "gift_wrap");
    // The decisions say which rules made them.
    let conversation = app.start(serde_json::json!({})).await;
    app.say_ok(&conversation, "荷物が届かない").await;
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{}", conversation.id))
        .await;
    assert_eq!(
        detail["messages"][0]["decision"]["rules_version"],
        reloaded["version"]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_change_of_the_files_is_reloaded_by_itself() {
    let dir = rules_dir();
    let app = app(dir.path(), "").await;
    let first = version(&app).await;
    std::fs::write(dir.path().join("gift.yaml"), GIFT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while version(&app).await == first && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(version(&app).await, first, "the change was not picked up");
    assert_eq!(intent(&app, "ラッピングできますか").await, "gift_wrap");
    app.stop().await;
}

#[tokio::test]
async fn messages_keep_being_answered_while_the_rules_are_reloaded() {
    let dir = rules_dir();
    std::fs::write(dir.path().join("gift.yaml"), GIFT).unwrap();
    let app = app(dir.path(), "rules_watch = 'off'\nrate_limits = 'off'").await;
    let conversation = app.start(serde_json::json!({})).await;
    let reloads = async {
        for n in 0..20 {
            // Two rule sets in turn, so that each reload changes something.
            let text = if n % 2 == 0 {
                GIFT.replace("無料", "200円")
            } else {
                GIFT.to_owned()
            };
            std::fs::write(dir.path().join("gift.yaml"), text).unwrap();
            let (status, body) = reload(&app).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    let messages = async {
        for _ in 0..100 {
            let response = app.say(&conversation, "荷物が届かない").await;
            assert_eq!(response.status(), 200);
        }
    };
    tokio::join!(reloads, messages);
    app.stop().await;
}

#[tokio::test]
async fn sighup_reloads_the_rules_of_the_running_service() {
    let dir = rules_dir();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("madoguchi.toml");
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    std::fs::write(
        &config,
        format!(
            "listen = '127.0.0.1:{port}'\ndatabase_url = 'sqlite://{}'\nrules = '{}'\nrules_watch = 'off'\n",
            data.path().join("m.db").display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let mut service = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let ready = format!("http://127.0.0.1:{port}/readyz");
    let read_version = || async {
        let response = client.get(&ready).send().await.ok()?;
        let body: Value = response.json().await.ok()?;
        body["rules_version"].as_str().map(str::to_owned)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut first = None;
    while first.is_none() && Instant::now() < deadline {
        first = read_version().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let first = first.expect("the service started");
    std::fs::write(dir.path().join("gift.yaml"), GIFT).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &service.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut now = first.clone();
    while now == first && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = read_version().await.unwrap_or_else(|| first.clone());
    }
    let _ = Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status();
    let _ = service.wait();
    assert_ne!(now, first, "SIGHUP did not reload the rules");
}
