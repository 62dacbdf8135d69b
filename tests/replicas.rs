//! Two replicas on one PostgreSQL: a customer listening on one gets what
//! an agent writes on the other.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_TOKEN, Db, fresh_db};
use futures_util::StreamExt as _;
use serde_json::Value;

/// A `madoguchi serve` process, stopped when dropped.
struct Replica {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn replica(database_url: &str) -> Replica {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = dir.path().join("madoguchi.toml");
    std::fs::write(
        &config,
        format!(
            "listen = '127.0.0.1:{port}'\ndatabase_url = '{database_url}'\nrules = '{}'\nadmin_token = '{ADMIN_TOKEN}'\nrules_watch = 'off'\n",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("rules").display()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("{url}/readyz"))
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return Replica {
                child,
                url,
                _dir: dir,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the replica did not start");
}

#[tokio::test]
async fn an_agent_reply_on_one_replica_reaches_a_listener_on_the_other() {
    let Some(db) = fresh_db(Db::Postgres).await else {
        return;
    };
    let a = replica(&db.url).await;
    let b = replica(&db.url).await;
    let client = reqwest::Client::new();
    let started: Value = client
        .post(format!("{}/v1/conversations", a.url))
        .json(&serde_json::json!({ "locale": "ja" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (id, token) = (
        started["id"].as_str().unwrap(),
        started["token"].as_str().unwrap(),
    );
    let stream = client
        .get(format!("{}/v1/conversations/{id}/events", a.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    for n in 0..3 {
        let text = format!("担当の佐藤です。{n}件目のご連絡です。");
        let posted = client
            .post(format!("{}/v1/admin/conversations/{id}/messages", b.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({ "agent": "佐藤", "text": text }))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 201);
        let mut seen = String::new();
        let arrived = tokio::time::timeout(Duration::from_secs(15), async {
            while let Some(chunk) = body.next().await {
                seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
                if seen.contains(&text) {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(
            arrived,
            Ok(true),
            "reply {n} did not reach the other replica: {seen}"
        );
    }
}
