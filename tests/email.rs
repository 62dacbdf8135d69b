//! The e-mail channel end to end: raw mail posted to the running service,
//! answers received by a real SMTP server on loopback (aiosmtpd, from the
//! venv `.ci/run` makes at `target/mail-venv`), handoffs by a real webhook
//! receiver, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Db, Receiver, TestApp, spawn_app_with};
use serde_json::Value;

const SECRET: &str = "inbound-secret-for-tests";

/// aiosmtpd on a free port of 127.0.0.1, keeping every mail in a Maildir.
struct Smtp {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/mail-venv/bin/python");
    if python.exists() {
        Some(python)
    } else {
        eprintln!(
            "SKIPPED: no SMTP server for the e-mail tests (python3 -m venv target/mail-venv && target/mail-venv/bin/pip install -r tests/mail/requirements.txt)"
        );
        None
    }
}

impl Smtp {
    async fn start() -> Option<Smtp> {
        let port = free_port().await;
        Smtp::start_on(port).await
    }

    async fn start_on(port: u16) -> Option<Smtp> {
        let python = python()?;
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.path().join("box"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(Smtp { port, dir, child });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not start on port {port}");
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, oldest first.
    fn received(&self) -> Vec<Mail> {
        let new = self.dir.path().join("box/new");
        let Ok(entries) = std::fs::read_dir(new) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
        files
            .iter()
            .map(|p| Mail::parse(&std::fs::read(p).unwrap()))
            .collect()
    }

    /// Waits until `n` mails arrived.
    async fn wait_for(&self, n: usize) -> Vec<Mail> {
        for _ in 0..150 {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{n} mails expected, {} arrived", self.received().len());
    }
}

async fn free_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A mail as the SMTP server kept it (with aiosmtpd's `X-MailFrom`, the
/// envelope sender).
struct Mail {
    headers: Vec<(String, String)>,
    body: String,
}

impl Mail {
    fn parse(raw: &[u8]) -> Mail {
        let parsed = madoguchi::channels::email::parse::parse(raw).unwrap();
        Mail {
            headers: parsed.headers.clone(),
            body: parsed.body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn message_id(&self) -> String {
        self.header("message-id")
            .unwrap()
            .trim_matches(['<', '>'])
            .to_owned()
    }
}

fn corpus(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/mail/corpus")
            .join(file),
    )
    .unwrap()
}

/// A plain UTF-8 mail from `from`, with optional threading headers.
fn mail(from: &str, id: &str, subject: &str, body: &str, in_reply_to: Option<&str>) -> Vec<u8> {
    let threading = in_reply_to.map_or(String::new(), |r| {
        format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n")
    });
    format!(
        "From: Customer <{from}>\r\nTo: support@shop.example\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Thu, 04 Dec 2026 10:00:00 +0900\r\n{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn app(db: Db, smtp: &str, extra: &str) -> Option<TestApp> {
    spawn_app_with(
        db,
        &format!(
            "email_from = 'support@shop.example'\nemail_inbound_secret = '{SECRET}'\nsmtp_url = '{smtp}'\nemail_authserv_id = 'mx.shop.example'\n{extra}"
        ),
    )
    .await
}

async fn post(app: &TestApp, raw: Vec<u8>) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/email/inbound"))
        .bearer_auth(SECRET)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn taken(app: &TestApp, raw: Vec<u8>) -> Value {
    let (status, body) = post(app, raw).await;
    assert_eq!(status, 202, "{body}");
    body
}

async fn an_inbound_question_is_answered_by_mail_once(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    let raw = corpus("ja_iso2022jp_shipping.eml");
    let receipt = taken(&app, raw.clone()).await;
    assert_eq!(receipt["outcome"], "taken", "{receipt}");
    assert_eq!(receipt["answered"], true, "{receipt}");
    let conversation = receipt["conversation"].as_str().unwrap().to_owned();
    let answer = &smtp.wait_for(1).await[0];
    // RFC 3834: marked automatic, sent with the null sender, threaded.
    assert_eq!(answer.header("auto-submitted"), Some("auto-replied"));
    assert_eq!(answer.header("x-auto-response-suppress"), Some("All"));
    assert_eq!(answer.header("x-mailfrom"), Some("<>"));
    assert_eq!(answer.header("x-rcptto"), Some("taro@example.jp"));
    let original = madoguchi::channels::email::parse::parse(&raw).unwrap();
    assert_eq!(
        answer.header("in-reply-to"),
        Some(format!("<{}>", original.message_id).as_str())
    );
    let subject = madoguchi::channels::email::parse::parse(
        &std::fs::read(
            smtp.dir
                .path()
                .join("box/new")
                .read_dir()
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path(),
        )
        .unwrap(),
    )
    .unwrap()
    .subject;
    assert_eq!(subject, "Re: 送料について");
    // The answer is the bot's, as the agent sees it, with the mail beside it.
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{conversation}"))
        .await;
    assert_eq!(detail["channel"], "email");
    assert_eq!(detail["customer"]["identity"], "email_sender");
    let bot = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["author"] == "bot")
        .unwrap();
    assert_eq!(
        answer.body.trim(),
        bot["text"].as_str().unwrap().trim(),
        "the mail carries the answer"
    );
    let mails = detail["mails"].as_array().unwrap();
    assert_eq!(mails[0]["kind"], "customer");
    assert!(mails[0]["body"].as_str().unwrap().contains("送料"));
    assert_eq!(mails[1]["kind"], "auto_reply");
    // The same mail delivered again is taken once.
    let again = taken(&app, raw).await;
    assert_eq!(again["outcome"], "duplicate");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1, "no second answer");
    app.stop().await;
}

async fn a_complaint_with_a_photo_is_handed_off_with_its_attachment(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let receiver = Receiver::start().await;
    let Some(app) = app(
        db,
        &smtp.url(),
        &format!("webhook_url = '{}'", receiver.url),
    )
    .await
    else {
        return;
    };
    let receipt = taken(&app, corpus("ja_mixed_photo_rfc2231_complaint.eml")).await;
    assert_eq!(receipt["escalated"], true, "{receipt}");
    let acknowledgement = &smtp.wait_for(1).await[0];
    assert_eq!(
        acknowledgement.header("auto-submitted"),
        Some("auto-replied")
    );
    let mut handoff = None;
    for _ in 0..100 {
        if let Some(request) = receiver.requests().first() {
            handoff = Some(serde_json::from_str::<Value>(&request.body).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let handoff = handoff.expect("the handoff arrives");
    let email = &handoff["data"]["email"];
    assert_eq!(handoff["data"]["channel"], "email");
    assert_eq!(
        email["attachments"][0]["content_type"], "image/jpeg",
        "{email}"
    );
    assert!(email["attachments"][0]["size"].as_u64().unwrap() > 0);
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/corpus/expected.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let listed = expected
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == "ja_mixed_photo_rfc2231_complaint.eml")
        .unwrap();
    assert_eq!(
        email["attachments"][0]["name"],
        listed["attachments"][0]["name"]
    );
    assert!(!email["original"].as_str().unwrap().is_empty());
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/handoff.created.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&handoff)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // The acknowledgement is kept as such, not as an FAQ answer.
    let conversation = receipt["conversation"].as_str().unwrap();
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{conversation}"))
        .await;
    assert_eq!(detail["mails"][1]["kind"], "acknowledgement");
    app.stop().await;
}

async fn a_loop_with_another_auto_responder_stops_after_one_answer(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    let from = "info@other-shop.example";
    taken(
        &app,
        mail(
            from,
            "q1@other-shop.example",
            "送料について",
            "送料はいくらですか？",
            None,
        ),
    )
    .await;
    let mut last = smtp.wait_for(1).await[0].message_id();
    // The other side answers every mail automatically, with no header that
    // says so: only the limit per sender stops the ping-pong.
    for round in 0..5 {
        let receipt = taken(
            &app,
            mail(
                from,
                &format!("auto{round}@other-shop.example"),
                "Re: Re: 送料について",
                "お問い合わせありがとうございます。担当者より折り返しご連絡いたします。送料についてのご質問を承りました。",
                Some(&last),
            ),
        )
        .await;
        assert_eq!(receipt["answered"], false, "round {round}: {receipt}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(newer) = smtp.received().last() {
            last = newer.message_id();
        }
    }
    assert_eq!(smtp.received().len(), 1, "one answer, then silence");
    app.stop().await;
}

async fn automatic_and_list_mail_is_kept_unanswered(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    for (file, reason) in [
        ("en_ooo_auto_submitted.eml", "auto_submitted"),
        ("en_list_newsletter.eml", "list"),
        ("role_noreply.eml", "role_sender"),
        ("dmarc_fail_shipping.eml", "dmarc_fail"),
        ("own_x_loop.eml", "x_loop"),
    ] {
        let receipt = taken(&app, corpus(file)).await;
        assert_eq!(receipt["outcome"], "not_answered", "{file}: {receipt}");
        assert_eq!(receipt["not_answered"], reason, "{file}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(smtp.received().is_empty(), "nothing answered");
    // Each decision not to answer is counted by the header that made it.
    let stats = app.admin_json("/v1/admin/email/stats").await;
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(stats["received"], 5, "{stats}");
    assert_eq!(stats["answered"], 0, "{stats}");
    for reason in [
        "auto_submitted",
        "list",
        "role_sender",
        "dmarc_fail",
        "x_loop",
    ] {
        assert_eq!(stats["not_answered"][reason], 1, "{reason}: {stats}");
        // And in the metrics, by the same reasons.
        assert!(
            metrics.contains(&format!(
                "madoguchi_email_not_answered_total{{reason=\"{reason}\"}}"
            )),
            "{reason}: {metrics}"
        );
    }
    app.stop().await;
}

async fn undecodable_mail_is_quarantined_and_listed(db: Db) {
    let Some(app) = app(db, "smtp://127.0.0.1:9", "").await else {
        return;
    };
    let raw = corpus("unknown_charset_8bit.eml");
    let receipt = taken(&app, raw.clone()).await;
    assert_eq!(receipt["outcome"], "quarantined", "{receipt}");
    let id = receipt["quarantine"].as_str().unwrap();
    let listed = app.admin_json("/v1/admin/email/quarantine").await;
    assert_eq!(listed["quarantine"][0]["id"], id);
    assert_eq!(listed["quarantine"][0]["size"], raw.len());
    let kept = app
        .admin(
            reqwest::Method::GET,
            &format!("/v1/admin/email/quarantine/{id}"),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(kept.as_ref(), raw.as_slice(), "kept as it came");
    app.stop().await;
}

async fn card_numbers_in_mail_are_masked_before_storage(db: Db) {
    let Some(app) = app(db, "smtp://127.0.0.1:9", "").await else {
        return;
    };
    let receipt = taken(&app, corpus("ja_card_number.eml")).await;
    let conversation = receipt["conversation"].as_str().unwrap();
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{conversation}"))
        .await;
    let text = detail.to_string();
    for digits in ["４１１１", "4111-1111", "4111111111111111"] {
        assert!(!text.contains(digits), "{digits} kept: {text}");
    }
    app.stop().await;
}

async fn a_bounce_is_attached_and_stops_mail_to_the_address(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    let from = "gone@example.jp";
    let first = taken(
        &app,
        mail(
            from,
            "b1@example.jp",
            "送料について",
            "送料はいくらですか？",
            None,
        ),
    )
    .await;
    let ours = smtp.wait_for(1).await[0].message_id();
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.jp>\r\nTo: support@shop.example\r\nReturn-Path: <>\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.jp>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n\r\nFinal-Recipient: rfc822; {from}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{ours}>\r\nTo: {from}\r\n--B--\r\n"
    );
    let bounce = taken(&app, dsn.into_bytes()).await;
    assert_eq!(bounce["outcome"], "bounce", "{bounce}");
    assert_eq!(bounce["conversation"], first["conversation"]);
    // The address is not mailed again for a while.
    let second = taken(
        &app,
        mail(
            from,
            "b2@example.jp",
            "返品について",
            "返品したいです",
            None,
        ),
    )
    .await;
    assert_eq!(second["not_answered"], "bounced_recipient", "{second}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1);
    app.stop().await;
}

async fn replies_thread_into_their_conversation(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "email_reply_window_minutes = 0").await else {
        return;
    };
    let from = "hanako@example.jp";
    let first = taken(
        &app,
        mail(
            from,
            "t1@example.jp",
            "送料について",
            "送料はいくらですか？",
            None,
        ),
    )
    .await;
    let ours = smtp.wait_for(1).await[0].message_id();
    let by_header = taken(
        &app,
        mail(
            from,
            "t2@example.jp",
            "Re: 送料について",
            "ありがとうございます。沖縄も同じですか？",
            Some(&ours),
        ),
    )
    .await;
    assert_eq!(by_header["conversation"], first["conversation"]);
    // A client that dropped the headers: the subject still finds it.
    let by_subject = taken(
        &app,
        mail(
            from,
            "t3@example.jp",
            "Re: 送料について",
            "もう一つ質問です。",
            None,
        ),
    )
    .await;
    assert_eq!(by_subject["conversation"], first["conversation"]);
    // Someone else quoting our Message-ID joins nothing.
    let stranger = taken(
        &app,
        mail(
            "mallory@example.com",
            "t4@example.com",
            "Re: 送料について",
            "hello",
            Some(&ours),
        ),
    )
    .await;
    assert_ne!(stranger["conversation"], first["conversation"]);
    // A new subject is a new question.
    let new = taken(
        &app,
        mail(
            from,
            "t5@example.jp",
            "返品について",
            "返品したいです",
            None,
        ),
    )
    .await;
    assert_ne!(new["conversation"], first["conversation"]);
    app.stop().await;
}

async fn an_agent_answers_by_ordinary_mail(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    let receipt = taken(
        &app,
        mail(
            "jiro@example.jp",
            "h1@example.jp",
            "担当者の方へ",
            "担当者と話したいです。",
            None,
        ),
    )
    .await;
    let conversation = receipt["conversation"].as_str().unwrap();
    smtp.wait_for(1).await;
    let response = app
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/conversations/{conversation}/messages"),
        )
        .json(&serde_json::json!({ "agent": "佐藤", "text": "佐藤です。ご連絡ありがとうございます。" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let received = smtp.wait_for(2).await;
    let answer = &received[1];
    assert_eq!(answer.header("auto-submitted"), None, "a person's mail");
    assert_eq!(answer.header("x-mailfrom"), Some("support@shop.example"));
    assert_eq!(answer.header("in-reply-to"), Some("<h1@example.jp>"));
    assert!(answer.body.contains("佐藤です"));
    app.stop().await;
}

async fn a_relay_that_is_down_loses_nothing(db: Db) {
    let port = free_port().await;
    if python().is_none() {
        return;
    }
    let Some(app) = app(db, &format!("smtp://127.0.0.1:{port}"), "").await else {
        return;
    };
    taken(
        &app,
        mail(
            "ken@example.jp",
            "r1@example.jp",
            "送料について",
            "送料はいくらですか？",
            None,
        ),
    )
    .await;
    // Tried, failed, waiting for its retry.
    let mut pending = Value::Null;
    for _ in 0..100 {
        pending = app
            .admin_json("/v1/admin/email/outbox?status=pending")
            .await;
        // Claimed counts the attempt; the error comes once it failed.
        if pending["mails"][0]["last_error"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        pending["mails"][0]["last_error"].as_str().is_some(),
        "{pending}"
    );
    // The relay comes back: the retry delivers it.
    let smtp = Smtp::start_on(port).await.unwrap();
    let received = smtp.wait_for(1).await;
    assert_eq!(received[0].header("x-rcptto"), Some("ken@example.jp"));
    app.stop().await;
}

async fn the_endpoint_checks_its_secret_type_and_size(db: Db) {
    let Some(app) = app(db, "smtp://127.0.0.1:9", "email_max_bytes = 2048").await else {
        return;
    };
    let raw = mail("a@example.jp", "s1@example.jp", "送料", "送料は？", None);
    let wrong = app
        .client
        .post(app.url("/v1/email/inbound"))
        .bearer_auth("not-the-secret")
        .header("content-type", "message/rfc822")
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        common::error_code(wrong).await,
        (401, "unauthorized".into())
    );
    let json = app
        .client
        .post(app.url("/v1/email/inbound"))
        .bearer_auth(SECRET)
        .header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 415);
    let big = mail(
        "a@example.jp",
        "s2@example.jp",
        "写真",
        &"あ".repeat(2000),
        None,
    );
    // The secret is checked before the body is read.
    let unread = app
        .client
        .post(app.url("/v1/email/inbound"))
        .bearer_auth("not-the-secret")
        .header("content-type", "message/rfc822")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unread.status(), 401);
    let (status, _) = post(&app, big).await;
    assert_eq!(status, 413);
    app.stop().await;
}

async fn a_burst_in_one_thread_goes_to_a_person(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let receiver = Receiver::start().await;
    let overrides = format!("email_burst_mails = 3\nwebhook_url = '{}'", receiver.url);
    let Some(app) = app(db, &smtp.url(), &overrides).await else {
        return;
    };
    let from = "flood@example.jp";
    let first = taken(
        &app,
        mail(
            from,
            "f0@example.jp",
            "送料について",
            "送料はいくらですか？",
            None,
        ),
    )
    .await;
    let mut last = smtp.wait_for(1).await[0].message_id();
    let mut receipts = Vec::new();
    for n in 1..=3 {
        let receipt = taken(
            &app,
            mail(
                from,
                &format!("f{n}@example.jp"),
                "Re: 送料について",
                "送料はいくらですか？",
                Some(&last),
            ),
        )
        .await;
        assert_eq!(receipt["conversation"], first["conversation"]);
        if let Some(newer) = smtp.received().last() {
            last = newer.message_id();
        }
        receipts.push(receipt);
    }
    // The fourth mail within the window is the burst: no answer, a person
    // (the two before it were within the sender's limit).
    assert_eq!(receipts[0]["not_answered"], "sender_limit", "{receipts:?}");
    assert_eq!(receipts[2]["not_answered"], "thread_burst", "{receipts:?}");
    assert_eq!(receipts[2]["escalated"], true);
    let mut handoff = None;
    for _ in 0..100 {
        if let Some(request) = receiver.requests().first() {
            handoff = Some(serde_json::from_str::<Value>(&request.body).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(handoff.expect("handed off")["data"]["reason"], "mail_burst");
    assert_eq!(smtp.received().len(), 1, "one answer, then none");
    app.stop().await;
}

/// `madoguchi inbound` as an MTA pipe runs it: the mail on standard input.
fn pipe(url: &str, raw: &[u8]) -> (Option<i32>, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(["inbound", "--url", url])
        .env("MADOGUCHI_EMAIL_INBOUND_SECRET", SECRET)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

#[tokio::test]
async fn the_pipe_hands_mail_over_and_asks_the_mta_to_retry_when_it_cannot() {
    let Some(app) = app(Db::Sqlite, "smtp://127.0.0.1:9", "").await else {
        return;
    };
    let url = app.url("/v1/email/inbound");
    let raw = mail(
        "pipe@example.jp",
        "p1@example.jp",
        "送料について",
        "送料はいくらですか？",
        None,
    );
    let (code, output) = tokio::task::spawn_blocking({
        let (url, raw) = (url.clone(), raw.clone());
        move || pipe(&url, &raw)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("\"taken\""), "{output}");
    app.stop().await;
    // The service is gone: 75 (EX_TEMPFAIL), so the MTA keeps the mail.
    let (code, output) = tokio::task::spawn_blocking(move || pipe(&url, &raw))
        .await
        .unwrap();
    assert_eq!(code, Some(75), "{output}");
}

async fn a_forged_bounce_holds_no_address(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    let victim = "victim@example.jp";
    let forged = format!(
        "From: Mail Delivery System <MAILER-DAEMON@evil.example>\r\nTo: support@shop.example\r\nSubject: Undelivered\r\nMessage-ID: <forged@evil.example>\r\nX-Failed-Recipients: {victim}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nMessage-ID: <nothing-of-ours@shop.example>\r\n"
    );
    let receipt = taken(&app, forged.into_bytes()).await;
    assert_eq!(receipt["outcome"], "bounce", "{receipt}");
    let answered = taken(
        &app,
        mail(
            victim,
            "v1@example.jp",
            "送料について",
            "送料はいくらですか？",
            None,
        ),
    )
    .await;
    assert_eq!(answered["answered"], true, "{answered}");
    smtp.wait_for(1).await;
    app.stop().await;
}

async fn answers_go_to_reply_to_only_for_a_vouched_sender(db: Db) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let Some(app) = app(db, &smtp.url(), "").await else {
        return;
    };
    let raw = String::from_utf8(mail(
        "sender@example.jp",
        "rt1@example.jp",
        "送料について",
        "送料はいくらですか？",
        None,
    ))
    .unwrap()
    .replacen("To: ", "Reply-To: someone-else@example.com\r\nTo: ", 1);
    taken(&app, raw.into_bytes()).await;
    let answer = &smtp.wait_for(1).await[0];
    assert_eq!(answer.header("x-rcptto"), Some("sender@example.jp"));
    // The receiving server vouches for this one: its Reply-To is taken.
    let vouched = String::from_utf8(mail(
        "other@example.jp",
        "rt2@example.jp",
        "返品について",
        "返品したいです",
        None,
    ))
    .unwrap()
    .replacen(
        "To: ",
        "Authentication-Results: mx.shop.example; dmarc=pass header.from=example.jp\r\nReply-To: desk@example.jp\r\nTo: ",
        1,
    );
    taken(&app, vouched.into_bytes()).await;
    let answer = &smtp.wait_for(2).await[1];
    assert_eq!(answer.header("x-rcptto"), Some("desk@example.jp"));
    app.stop().await;
}

both_databases! {
    a_forged_bounce_holds_no_address => a_forged_bounce_holds_no_address;
    answers_go_to_reply_to_only_for_a_vouched_sender => answers_go_to_reply_to_only_for_a_vouched_sender;
    a_burst_in_one_thread_goes_to_a_person => a_burst_in_one_thread_goes_to_a_person;
    an_inbound_question_is_answered_by_mail_once => an_inbound_question_is_answered_by_mail_once;
    a_complaint_with_a_photo_is_handed_off_with_its_attachment => a_complaint_with_a_photo_is_handed_off_with_its_attachment;
    a_loop_with_another_auto_responder_stops_after_one_answer => a_loop_with_another_auto_responder_stops_after_one_answer;
    automatic_and_list_mail_is_kept_unanswered => automatic_and_list_mail_is_kept_unanswered;
    undecodable_mail_is_quarantined_and_listed => undecodable_mail_is_quarantined_and_listed;
    card_numbers_in_mail_are_masked_before_storage => card_numbers_in_mail_are_masked_before_storage;
    a_bounce_is_attached_and_stops_mail_to_the_address => a_bounce_is_attached_and_stops_mail_to_the_address;
    replies_thread_into_their_conversation => replies_thread_into_their_conversation;
    an_agent_answers_by_ordinary_mail => an_agent_answers_by_ordinary_mail;
    a_relay_that_is_down_loses_nothing => a_relay_that_is_down_loses_nothing;
    the_endpoint_checks_its_secret_type_and_size => the_endpoint_checks_its_secret_type_and_size;
}
