//! The chat widget in a real browser: headless Chromium (Debian's
//! `chromium`, as `.ci/run` installs it) driven over the `DevTools` protocol,
//! against the real server with the example rules. Skipped, saying so,
//! where no Chromium is installed.

#![allow(clippy::unwrap_used)]

#[path = "widget/admin.rs"]
mod admin;
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::{Browser, BrowserConfig, Page};
use common::{Db, TestApp, spawn_app};
use futures_util::StreamExt;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A headless Chromium for one test; `None` (said on the terminal) when
/// none is installed.
async fn browser() -> Option<(Browser, tokio::task::JoinHandle<()>)> {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: no Chromium at {CHROMIUM} (apt-get install chromium)");
        return None;
    }
    let profile = tempfile::tempdir().unwrap().keep();
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile)
        .arg("--disable-background-networking")
        .arg("--disable-gpu")
        .window_size(1280, 900)
        .build()
        .unwrap();
    let (browser, mut handler) = Browser::launch(config).await.unwrap();
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    Some((browser, events))
}

/// Runs `script` in the page and returns its value.
async fn eval(page: &Page, script: &str) -> Value {
    page.evaluate(script)
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
        .into_value()
        .unwrap_or(Value::Null)
}

/// Waits until `script` is true in the page.
async fn until(page: &Page, what: &str, script: &str) {
    for _ in 0..100 {
        if eval(page, script).await == json!(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within ten seconds");
}

/// The widget's shadow root, as a page expression.
const ROOT: &str = "document.querySelector('[data-madoguchi]').shadowRoot";

/// Waits for the launcher, opens the panel and waits for the focus to be
/// in its box.
async fn open_widget(page: &Page) {
    until(
        page,
        "the launcher",
        &format!("!!{ROOT}?.querySelector('.launcher')"),
    )
    .await;
    eval(page, &format!("{ROOT}.querySelector('.launcher').click()")).await;
    until(
        page,
        "the panel",
        &format!("{ROOT}.activeElement?.tagName === 'TEXTAREA'"),
    )
    .await;
}

/// Closes the browser and waits for its event loop to end.
async fn close(mut browser: Browser, events: tokio::task::JoinHandle<()>) {
    browser.close().await.unwrap();
    events.await.unwrap();
}

/// The conversation the widget keeps in `localStorage`, as a page
/// expression: `{id, token, lastEvent}`.
const SAVED: &str =
    "JSON.parse(Object.entries(localStorage).find(([k]) => k.startsWith('madoguchi:'))[1])";

/// A port of its own, and its origin: another site.
async fn other_origin() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// Serves `html` at `/` on `listener`.
fn serve_page(listener: tokio::net::TcpListener, html: String) -> tokio::task::JoinHandle<()> {
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    })
}

/// Types `text` into the widget and sends it with Enter.
async fn type_and_send(page: &Page, text: &str) {
    let text = serde_json::to_string(text).unwrap();
    eval(
        page,
        &format!(
            "(() => {{ const box = {ROOT}.querySelector('form textarea'); box.focus(); box.value = {text};
               box.dispatchEvent(new KeyboardEvent('keydown', {{ key: 'Enter', bubbles: true }})); return true; }})()"
        ),
    )
    .await;
}

/// The texts of the widget's messages of `author`.
async fn messages(page: &Page, author: &str) -> Vec<String> {
    let found = eval(
        page,
        &format!(
            "[...{ROOT}.querySelectorAll('.m.{author}')].map(m => m.childNodes[1] ? m.childNodes[1].textContent : '')"
        ),
    )
    .await;
    serde_json::from_value(found).unwrap_or_default()
}

/// What the bot answers `text` in a fresh conversation, asked through the
/// API: the widget must show the same.
async fn answer(app: &TestApp, text: &str) -> String {
    let conversation = app.start(json!({})).await;
    app.say_ok(&conversation, text).await["reply"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("widget-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_visitor_asks_in_japanese_and_english_and_the_transcript_survives_a_reload() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let page = browser.new_page(app.url("/")).await.unwrap();
    until(
        &page,
        "the launcher",
        &format!("!!{ROOT}.querySelector('.launcher')"),
    )
    .await;
    let name = eval(
        &page,
        &format!("{ROOT}.querySelector('.launcher').getAttribute('aria-label')"),
    )
    .await;
    assert_eq!(name, "チャットで問い合わせる");
    assert_eq!(
        eval(&page, &format!("{ROOT}.querySelector('.panel')")).await,
        Value::Null,
        "the panel is built only when opened"
    );

    eval(&page, &format!("{ROOT}.querySelector('.launcher').click()")).await;
    until(
        &page,
        "the panel",
        &format!("{ROOT}.activeElement?.tagName === 'TEXTAREA'"),
    )
    .await;
    let expected = answer(&app, "送料はいくらですか").await;
    type_and_send(&page, "送料はいくらですか").await;
    until(
        &page,
        "the answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;
    assert_eq!(messages(&page, "bot").await, [expected]);
    assert_eq!(messages(&page, "customer").await, ["送料はいくらですか"]);
    page.save_screenshot(
        chromiumoxide::page::ScreenshotParams::builder().build(),
        screenshots().join("widget-ja.png"),
    )
    .await
    .unwrap();

    let expected = answer(&app, "How much is shipping?").await;
    type_and_send(&page, "How much is shipping?").await;
    until(
        &page,
        "the English answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 2"),
    )
    .await;
    assert_eq!(messages(&page, "bot").await[1], expected);

    // What a visitor types is shown as text, never run as HTML.
    eval(&page, "window.hit = false").await;
    type_and_send(&page, "<img src=x onerror=\"window.hit = true\">").await;
    until(
        &page,
        "the reply",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 3"),
    )
    .await;
    assert_eq!(
        messages(&page, "customer").await[2],
        "<img src=x onerror=\"window.hit = true\">"
    );
    assert_eq!(
        eval(&page, &format!("{ROOT}.querySelectorAll('img').length")).await,
        json!(0)
    );
    assert_eq!(eval(&page, "window.hit").await, json!(false));
    page.save_screenshot(
        chromiumoxide::page::ScreenshotParams::builder().build(),
        screenshots().join("widget-desktop.png"),
    )
    .await
    .unwrap();
    // On a 360 px wide phone the panel fits the screen.
    page.execute(
        chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams::new(
            360, 740, 2.0, true,
        ),
    )
    .await
    .unwrap();
    let fits = eval(
        &page,
        &format!("(() => {{ const r = {ROOT}.querySelector('.panel').getBoundingClientRect(); return r.left >= 0 && r.right <= 360; }})()"),
    )
    .await;
    assert_eq!(fits, json!(true), "the panel fits a 360 px screen");
    page.save_screenshot(
        chromiumoxide::page::ScreenshotParams::builder().build(),
        screenshots().join("widget-360px.png"),
    )
    .await
    .unwrap();

    // A reload keeps the conversation: id and token in localStorage.
    page.reload().await.unwrap();
    until(
        &page,
        "the launcher again",
        &format!("!!{ROOT}?.querySelector('.launcher')"),
    )
    .await;
    eval(&page, &format!("{ROOT}.querySelector('.launcher').click()")).await;
    until(
        &page,
        "the transcript",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 3"),
    )
    .await;
    assert_eq!(messages(&page, "customer").await[0], "送料はいくらですか");
    assert!(
        !eval(&page, "location.href")
            .await
            .as_str()
            .unwrap()
            .contains("token"),
        "the token is never in a URL"
    );

    close(browser, events).await;
    app.stop().await;
}

#[tokio::test]
async fn an_agent_reply_arrives_live_after_the_visitor_asks_for_a_person() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let page = browser.new_page(app.url("/en")).await.unwrap();
    until(
        &page,
        "the launcher",
        &format!("!!{ROOT}.querySelector('.launcher')"),
    )
    .await;
    eval(&page, &format!("{ROOT}.querySelector('.launcher').click()")).await;
    until(
        &page,
        "the panel",
        &format!("!!{ROOT}.querySelector('.actions button')"),
    )
    .await;
    eval(
        &page,
        &format!("{ROOT}.querySelector('.actions button').click()"),
    )
    .await;
    until(
        &page,
        "the question for an address",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;
    type_and_send(&page, "it's sam.wu@example.com").await;
    until(
        &page,
        "the handoff",
        &format!("[...{ROOT}.querySelectorAll('.note')].some(n => n.textContent.includes('has your conversation'))"),
    )
    .await;

    let listed = app
        .admin_json("/v1/admin/conversations?state=handed_off")
        .await;
    let id = listed["conversations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = app
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/conversations/{id}/messages"),
        )
        .json(&json!({ "text": "Hi Sam, this is Aiko. How can I help?", "agent": "Aiko" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 201);
    until(
        &page,
        "the agent's reply",
        &format!("[...{ROOT}.querySelectorAll('.m.agent')].some(m => m.textContent.includes('this is Aiko'))"),
    )
    .await;

    // The agent closes the conversation: the visitor is asked how it went.
    let closed = app
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/conversations/{id}/close"),
        )
        .send()
        .await
        .unwrap();
    assert!(closed.status().is_success(), "{}", closed.status());
    until(
        &page,
        "the rating",
        &format!("!!{ROOT}.querySelector('.csat')"),
    )
    .await;
    let handed_off_notes = eval(
        &page,
        &format!("[...{ROOT}.querySelectorAll('.note')].filter(n => n.textContent.includes('member of our team has')).length"),
    )
    .await;
    assert_eq!(handed_off_notes, json!(1), "the handoff is told once");

    // Writing again after the close starts a new conversation.
    let stored = format!("{SAVED}.id");
    let before = eval(&page, &stored).await;
    type_and_send(&page, "How much is shipping?").await;

    until(
        &page,
        "an answer in a new conversation",
        &format!("[...{ROOT}.querySelectorAll('.m.bot')].some(m => m.textContent.includes('550'))"),
    )
    .await;
    assert_ne!(eval(&page, &stored).await, before, "a new conversation");

    close(browser, events).await;
    app.stop().await;
}

#[test]
fn the_widget_stays_under_its_budget() {
    use std::io::Write as _;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(madoguchi::http::WIDGET.as_bytes()).unwrap();
    let size = gzip.finish().unwrap().len();
    assert!(size < 15 * 1024, "widget.js is {size} bytes gzipped");
}

/// The Enter that confirms a Japanese IME conversion never sends; a quick
/// reply tapped afterwards is taken as the intent it stands for.
#[tokio::test]
async fn an_ime_enter_does_not_send_and_a_tapped_quick_reply_does() {
    use chromiumoxide::cdp::browser_protocol::input::{
        DispatchKeyEventParams, DispatchKeyEventType, ImeSetCompositionParams, InsertTextParams,
    };
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let page = browser.new_page(app.url("/")).await.unwrap();
    open_widget(&page).await;

    let enter = |kind| {
        DispatchKeyEventParams::builder()
            .r#type(kind)
            .key("Enter")
            .code("Enter")
            .windows_virtual_key_code(13)
            .build()
            .unwrap()
    };
    // Composing 「はいそう」: the Enter that ends the composition confirms it.
    page.execute(ImeSetCompositionParams::new("はいそう", 4, 4))
        .await
        .unwrap();
    page.execute(enter(DispatchKeyEventType::RawKeyDown))
        .await
        .unwrap();
    page.execute(InsertTextParams::new("配送")).await.unwrap();
    page.execute(enter(DispatchKeyEventType::KeyUp))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        messages(&page, "customer").await.is_empty(),
        "nothing was sent"
    );
    assert_eq!(
        eval(&page, &format!("{ROOT}.querySelector('textarea').value")).await,
        json!("配送")
    );

    // A plain Enter sends; the bot offers topics, and a tap is answered as
    // the topic, whatever its label would classify as.
    eval(
        &page,
        &format!("{ROOT}.querySelector('textarea').value = 'あのー'"),
    )
    .await;
    page.execute(enter(DispatchKeyEventType::KeyDown))
        .await
        .unwrap();
    until(
        &page,
        "the fallback's topics",
        &format!("!!{ROOT}.querySelector('.quick button')"),
    )
    .await;
    assert_eq!(messages(&page, "customer").await, ["あのー"]);
    let label = eval(
        &page,
        &format!("{ROOT}.querySelector('.quick button').textContent"),
    )
    .await;
    eval(
        &page,
        &format!("{ROOT}.querySelector('.quick button').click()"),
    )
    .await;
    until(
        &page,
        "the topic's answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 2"),
    )
    .await;
    assert_eq!(
        messages(&page, "customer").await[1],
        label.as_str().unwrap()
    );
    let conversation: Value = eval(&page, SAVED).await;
    let transcript = app
        .get_json(
            &format!("/v1/conversations/{}", conversation["id"].as_str().unwrap()),
            conversation["token"].as_str().unwrap(),
        )
        .await;
    let picked = &transcript["messages"][2];
    assert_eq!(picked["author"], "customer");
    assert!(
        picked["intent"].is_string(),
        "the tap was taken as an intent: {picked}"
    );

    close(browser, events).await;
    app.stop().await;
}

/// Thanks after an answer settles the question: the widget asks for a
/// rating, and the rating is taken.
#[tokio::test]
async fn a_settled_question_asks_for_a_rating_and_takes_it() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let page = browser.new_page(app.url("/en")).await.unwrap();
    open_widget(&page).await;
    type_and_send(&page, "How much is shipping?").await;
    until(
        &page,
        "the answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;
    assert_eq!(
        eval(&page, &format!("!!{ROOT}.querySelector('.csat')")).await,
        json!(false)
    );
    type_and_send(&page, "Great, thank you so much!").await;
    until(
        &page,
        "the rating",
        &format!("!!{ROOT}.querySelector('.csat')"),
    )
    .await;
    eval(
        &page,
        &format!("{ROOT}.querySelectorAll('.stars button')[3].click()"),
    )
    .await;
    eval(
        &page,
        &format!("{ROOT}.querySelector('.csat > button').click()"),
    )
    .await;
    until(
        &page,
        "the thanks for the rating",
        &format!("!{ROOT}.querySelector('.csat') && [...{ROOT}.querySelectorAll('.note')].some(n => n.textContent.includes('feedback'))"),
    )
    .await;

    close(browser, events).await;
    app.stop().await;
}

/// The widget's live connection is cut (here by a newer stream of the same
/// conversation taking its place, as a proxy's timeout or a network change
/// would end it); the agent writes meanwhile; the widget reconnects with
/// its last event id and shows what it missed.
#[tokio::test]
async fn messages_sent_while_the_connection_was_down_arrive_after_it_comes_back() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = common::spawn_app_with(Db::Sqlite, "max_streams_per_conversation = 1")
        .await
        .unwrap();
    let page = browser.new_page(app.url("/en")).await.unwrap();
    open_widget(&page).await;
    type_and_send(&page, "How much is shipping?").await;
    until(
        &page,
        "the answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;
    let saved: Value = eval(&page, SAVED).await;
    let (id, token) = (
        saved["id"].as_str().unwrap().to_owned(),
        saved["token"].as_str().unwrap().to_owned(),
    );
    let agent_says = |text: &'static str| {
        app.admin(
            reqwest::Method::POST,
            &format!("/v1/admin/conversations/{id}/messages"),
        )
        .json(&json!({ "text": text, "agent": "Aiko" }))
        .send()
    };
    assert_eq!(agent_says("First, live.").await.unwrap().status(), 201);
    until(
        &page,
        "the live message",
        &format!("{ROOT}.querySelectorAll('.m.agent').length === 1"),
    )
    .await;

    // Another stream takes the only place: the widget's is closed.
    let taker = app
        .client
        .get(app.url(&format!("/v1/conversations/{id}/events")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        agent_says("Second, while you were away.")
            .await
            .unwrap()
            .status(),
        201
    );
    until(
        &page,
        "the missed message",
        &format!("[...{ROOT}.querySelectorAll('.m.agent')].some(m => m.textContent.includes('while you were away'))"),
    )
    .await;
    drop(taker);
    assert_eq!(
        eval(
            &page,
            &format!("{ROOT}.querySelectorAll('.m.agent').length")
        )
        .await,
        json!(2),
        "each message once"
    );

    close(browser, events).await;
    app.stop().await;
}

/// Presses `key` (a DOM key name with its Windows key code) in the page.
async fn press(page: &Page, key: &str, code: i64) {
    use chromiumoxide::cdp::browser_protocol::input::{
        DispatchKeyEventParams, DispatchKeyEventType,
    };
    let text = match key {
        "Enter" => Some("\r"),
        _ => None,
    };
    for kind in [DispatchKeyEventType::KeyDown, DispatchKeyEventType::KeyUp] {
        let mut event = DispatchKeyEventParams::builder()
            .r#type(kind.clone())
            .key(key)
            .code(key)
            .windows_virtual_key_code(code);
        if let (Some(text), DispatchKeyEventType::KeyDown) = (text, kind) {
            event = event.text(text);
        }
        page.execute(event.build().unwrap()).await.unwrap();
    }
}

/// The whole visit with the keyboard alone: Tab to the launcher, Enter to
/// open (focus goes into the box), type and Enter to send, Escape to close
/// (focus goes back to the launcher).
#[tokio::test]
async fn the_widget_is_used_with_the_keyboard_alone() {
    use chromiumoxide::cdp::browser_protocol::input::InsertTextParams;
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    let page = browser.new_page(app.url("/en")).await.unwrap();
    until(
        &page,
        "the launcher",
        &format!("!!{ROOT}.querySelector('.launcher')"),
    )
    .await;
    let on_launcher = format!("{ROOT}.activeElement === {ROOT}.querySelector('.launcher')");
    for _ in 0..10 {
        press(&page, "Tab", 9).await;
        if eval(&page, &on_launcher).await == json!(true) {
            break;
        }
    }
    assert_eq!(
        eval(&page, &on_launcher).await,
        json!(true),
        "Tab reaches the launcher"
    );
    let focus_ring = eval(
        &page,
        &format!("getComputedStyle({ROOT}.querySelector('.launcher')).outlineStyle"),
    )
    .await;
    assert_eq!(focus_ring, json!("solid"), "the focus is visible");

    press(&page, "Enter", 13).await;
    until(
        &page,
        "focus in the box",
        &format!("{ROOT}.activeElement?.tagName === 'TEXTAREA'"),
    )
    .await;
    page.execute(InsertTextParams::new("How much is shipping?"))
        .await
        .unwrap();
    press(&page, "Enter", 13).await;
    until(
        &page,
        "the answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;

    press(&page, "Escape", 27).await;
    until(
        &page,
        "the panel closed",
        &format!("{ROOT}.querySelector('.panel').hidden"),
    )
    .await;
    assert_eq!(
        eval(&page, &on_launcher).await,
        json!(true),
        "focus back on the launcher"
    );
    let expanded = eval(
        &page,
        &format!("{ROOT}.querySelector('.launcher').getAttribute('aria-expanded')"),
    )
    .await;
    assert_eq!(expanded, json!("false"));

    close(browser, events).await;
    app.stop().await;
}

/// axe-core (npm, `tests/browser/`), injected into the page, finds nothing
/// serious or critical on the sample page with the widget open and in use.
#[tokio::test]
async fn axe_core_finds_nothing_serious_with_the_widget_open() {
    let axe = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    let Ok(axe) = std::fs::read_to_string(&axe) else {
        eprintln!("skipped: no axe-core (npm ci --prefix tests/browser)");
        return;
    };
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = spawn_app(Db::Sqlite).await.unwrap();
    for path in ["/", "/en"] {
        let page = browser.new_page(app.url(path)).await.unwrap();
        // A conversation of its own for each page.
        eval(&page, "localStorage.clear()").await;
        page.reload().await.unwrap();
        open_widget(&page).await;
        type_and_send(&page, "zzz").await;
        until(
            &page,
            "the topics",
            &format!("!!{ROOT}.querySelector('.quick button')"),
        )
        .await;
        page.evaluate(axe.as_str()).await.unwrap();
        let found = eval(
            &page,
            "axe.run(document).then(r => r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.id + ': ' + v.help + ' ' + v.nodes.map(n => n.target.join(' ')).join(', ')))",
        )
        .await;
        assert_eq!(found, json!([]), "{path}");
    }
    close(browser, events).await;
    app.stop().await;
}

/// A page of its own origin on a port of its own that calls the chat API
/// given as `?api=` from the browser; the outcome lands in
/// `window.outcome`.
async fn other_site() -> (String, tokio::task::JoinHandle<()>) {
    const PAGE: &str = "<!doctype html><html lang=en><title>another site</title><script>
         const api = new URLSearchParams(location.search).get('api');
         fetch(api + '/v1/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
           .then(r => r.json()).then(b => { window.outcome = b.id ? 'started' : 'refused'; })
           .catch(() => { window.outcome = 'blocked'; });
         </script>";
    let (listener, origin) = other_origin().await;
    (origin, serve_page(listener, PAGE.to_owned()))
}

/// Only the configured origins' pages may call the chat API from a
/// browser: the browser itself keeps any other site from reading it.
#[tokio::test]
async fn a_page_from_an_origin_not_listed_cannot_use_the_api() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let (allowed, allowed_server) = other_site().await;
    let (elsewhere, other_server) = other_site().await;
    let app = common::spawn_app_with(Db::Sqlite, &format!("cors_origins = ['{allowed}']"))
        .await
        .unwrap();
    for (origin, expected) in [(&allowed, "started"), (&elsewhere, "blocked")] {
        let page = browser
            .new_page(format!("{origin}/?api={}", app.address))
            .await
            .unwrap();
        until(&page, "the call's outcome", "window.outcome !== undefined").await;
        assert_eq!(
            eval(&page, "window.outcome").await,
            json!(expected),
            "{origin}"
        );
    }

    allowed_server.abort();
    other_server.abort();
    close(browser, events).await;
    app.stop().await;
}

/// When the service is down the page stays usable, the visitor is told in
/// their language, and what they typed stays in the box; too many messages
/// are answered with the wait, not silence.
#[tokio::test]
async fn a_server_that_is_down_or_refuses_is_explained_and_nothing_typed_is_lost() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let app = common::spawn_app_with(Db::Sqlite, "rate_limit_messages_per_minute = 1")
        .await
        .unwrap();
    let page = browser.new_page(app.url("/")).await.unwrap();
    until(
        &page,
        "the launcher",
        &format!("!!{ROOT}.querySelector('.launcher')"),
    )
    .await;
    let policy = eval(
        &page,
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))",
    )
    .await;
    assert_eq!(
        policy,
        json!(madoguchi::http::DEMO_POLICY),
        "the page's strict policy"
    );
    eval(&page, &format!("{ROOT}.querySelector('.launcher').click()")).await;
    until(
        &page,
        "the panel",
        &format!("{ROOT}.activeElement?.tagName === 'TEXTAREA'"),
    )
    .await;
    type_and_send(&page, "送料はいくらですか").await;
    until(
        &page,
        "the answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;

    // Over the limit of one message a minute: the wait is said.
    type_and_send(&page, "返品できますか").await;
    until(
        &page,
        "the wait",
        &format!("[...{ROOT}.querySelectorAll('.note.error')].some(n => n.textContent.includes('秒ほどお待ちください'))"),
    )
    .await;
    assert_eq!(
        eval(&page, &format!("{ROOT}.querySelector('textarea').value")).await,
        json!("返品できますか"),
        "the message stays in the box"
    );

    // The service goes away: the same, and the page is not covered.
    app.stop().await;
    type_and_send(&page, "返品できますか").await;
    until(
        &page,
        "the explanation",
        &format!("[...{ROOT}.querySelectorAll('.note.error')].some(n => n.textContent.includes('ただいま接続できません'))"),
    )
    .await;
    assert_eq!(
        eval(&page, &format!("{ROOT}.querySelector('textarea').value")).await,
        json!("返品できますか")
    );
    let on_top = eval(
        &page,
        "(() => { const e = document.elementFromPoint(40, 300); return e && e.closest('[data-madoguchi]') === null; })()",
    )
    .await;
    assert_eq!(
        on_top,
        json!(true),
        "the shop's page is still there to click"
    );

    close(browser, events).await;
}

/// A shop's own page (another origin, listed in `cors_origins`) embeds the
/// widget with one tag, configured by its attributes: a logged-in customer
/// comes verified, in the page's language, with the shop's title.
#[tokio::test]
async fn a_shop_page_embeds_the_widget_with_one_tag_for_a_verified_customer() {
    let Some((browser, events)) = browser().await else {
        return;
    };
    let (listener, shop) = other_origin().await;
    let app = common::spawn_app_with(Db::Sqlite, &format!("cors_origins = ['{shop}']"))
        .await
        .unwrap();
    let hash = madoguchi::secret::user_hash(&app.identity_secret, "customer-42");
    let page_html = format!(
        "<!doctype html><html lang=en><title>Shop</title><h1>Shop</h1>
         <script src=\"{api}/widget.js\" defer data-title=\"Kaede Tea\" data-position=\"left\"
                 data-external-id=\"customer-42\" data-user-hash=\"{hash}\"></script>",
        api = app.address
    );
    let server = serve_page(listener, page_html);

    let page = browser.new_page(format!("{shop}/")).await.unwrap();
    until(
        &page,
        "the launcher",
        &format!("!!{ROOT}?.querySelector('.launcher')"),
    )
    .await;
    let left = eval(
        &page,
        &format!("{ROOT}.querySelector('.launcher').getBoundingClientRect().left < 100"),
    )
    .await;
    assert_eq!(left, json!(true), "data-position=left");
    eval(&page, &format!("{ROOT}.querySelector('.launcher').click()")).await;
    until(
        &page,
        "the panel",
        &format!("{ROOT}.activeElement?.tagName === 'TEXTAREA'"),
    )
    .await;
    assert_eq!(
        eval(
            &page,
            &format!("{ROOT}.querySelector('header span').textContent")
        )
        .await,
        json!("Kaede Tea")
    );
    type_and_send(&page, "How much is shipping?").await;
    until(
        &page,
        "the answer",
        &format!("{ROOT}.querySelectorAll('.m.bot').length === 1"),
    )
    .await;

    let listed = app.admin_json("/v1/admin/conversations").await;
    let id = listed["conversations"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let detail = app
        .admin_json(&format!("/v1/admin/conversations/{id}"))
        .await;
    assert_eq!(detail["customer"]["verified"], true, "{detail}");
    assert_eq!(detail["customer"]["external_id"], "customer-42");

    server.abort();
    close(browser, events).await;
    app.stop().await;
}
