//! The local demo: `madoguchi.demo.toml` loads as it is, and a handoff from
//! the running service reaches `madoguchi webhook-listen`, which checks its
//! signature, prints it and answers with a ticket id the customer is told.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Db, spawn_app_with};
use madoguchi::config::{Config, Flags};
use madoguchi::secret::{Secret, WebhookSecret};
use serde_json::{Value, json};

const DEMO_SECRET: &str = "whsec_ZGVtby1vbmx5LXNpZ25pbmcta2V5LW5vdC1hLXNlY3JldA==";

/// `madoguchi webhook-listen` on a free port: the child, its address, and
/// everything it has printed so far.
struct Listening {
    child: Child,
    url: String,
    printed: Arc<Mutex<String>>,
}

impl Listening {
    fn start(secret: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
            .args([
                "webhook-listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                secret,
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        let printed = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&printed);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        Listening {
            child,
            url,
            printed,
        }
    }

    fn printed(&self) -> String {
        self.printed.lock().unwrap().clone()
    }

    async fn until_printed(&self, text: &str) -> String {
        for _ in 0..100 {
            let printed = self.printed();
            if printed.contains(text) {
                return printed;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "`{text}` was not printed within ten seconds:\n{}",
            self.printed()
        );
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_demo_configuration_loads_with_nothing_to_warn_about() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("madoguchi.demo.toml");
    let config = Config::load(Some(&path), &Flags::default()).unwrap();
    assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    let demo = std::fs::read_to_string(&path).unwrap();
    assert!(demo.contains(&format!("webhook-listen --secret {DEMO_SECRET}")));
    assert!(demo.contains(&format!("webhook_secret = \"{DEMO_SECRET}\"")));
}

#[tokio::test]
async fn a_handoff_reaches_the_local_listener_signed_and_gets_a_ticket() {
    let listening = Listening::start(DEMO_SECRET);
    let overrides = format!(
        "webhook_url = '{}'\nwebhook_secret = '{DEMO_SECRET}'",
        listening.url
    );
    let app = spawn_app_with(Db::Sqlite, &overrides).await.unwrap();
    let conversation = app.start(json!({ "email": "hanako@example.jp" })).await;
    let reply = app.say_ok(&conversation, "担当者と話したいです").await;
    assert_eq!(reply["escalated"], true, "{reply}");

    let printed = listening
        .until_printed("answered with ticket LOCAL-1")
        .await;
    assert!(printed.contains("handoff.created"), "{printed}");
    assert!(printed.contains("signature ok"), "{printed}");
    assert!(printed.contains("customer hanako@example.jp"), "{printed}");
    assert!(printed.contains("担当者と話したいです"), "{printed}");
    // The customer is told the listener's ticket.
    let mut told = false;
    for _ in 0..100 {
        let transcript: Value = app
            .get_json(
                &format!("/v1/conversations/{}", conversation.id),
                &conversation.token,
            )
            .await;
        told = transcript["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"].as_str().unwrap_or("").contains("LOCAL-1"));
        if told {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(told, "the ticket reference reached the conversation");
    app.stop().await;
}

#[tokio::test]
async fn the_listener_refuses_what_is_not_signed_with_its_secret() {
    let listening = Listening::start(DEMO_SECRET);
    let other =
        WebhookSecret::parse(Secret::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")).unwrap();
    let body = r#"{"type":"handoff.created","timestamp":"2026-12-01T01:00:00Z","data":{}}"#;
    let now = jiff::Timestamp::now().as_second();
    let response = reqwest::Client::new()
        .post(&listening.url)
        .header("webhook-id", "msg_forged")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            other.sign("msg_forged", now, body).unwrap(),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let printed = listening.until_printed("signature INVALID").await;
    assert!(printed.contains("msg_forged"), "{printed}");
    assert!(!printed.contains("LOCAL-"), "no ticket for it: {printed}");
}
