//! The commands (`check`, `classify`, `test`), run as a user runs them.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BINARY: &str = env!("CARGO_BIN_EXE_madoguchi");

const SHOP: &str = r"
locales: [ja, en]
shop:
  name: { ja: はなまる雑貨店, en: Hanamaru Goods }
details:
  order_number: '\b\d{4}-\d{4}\b'
intents:
  - id: order_status
    tags: [shipping]
    match:
      ja:
        any: [配送状況, 届かない, まだ届]
      en:
        any: [where is my order, not arrived, hasn't arrived]
    answer:
      ja: '{% if details.order_number %}ご注文{{ details.order_number }}の{% endif %}配送状況をお調べします。'
      en: We'll check on {% if details.order_number %}order {{ details.order_number }}{% else %}your order{% endif %}.
    examples:
      ja: [荷物がまだ届かないです]
      en: [Where is my order?]
";

fn rules_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write rules");
    }
    dir
}

fn madoguchi(args: &[&str], cwd: &Path, stdin: &[u8]) -> Output {
    let mut child = Command::new(BINARY)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start madoguchi");
    // A command that refuses its rules exits without reading its input.
    let written = child.stdin.take().expect("stdin").write_all(stdin);
    if let Err(err) = written {
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    }
    child.wait_with_output().expect("wait for madoguchi")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_accepts_a_valid_rule_set_with_a_one_line_summary() {
    let dir = rules_dir(&[("rules/shop.yaml", SHOP)]);
    let out = madoguchi(&["check"], dir.path(), b"");
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    // The file's one intent and the two built in (a person, someone in
    // charge).
    assert!(stdout.starts_with("rules: ok: 3 intents"), "{stdout}");
    assert!(text(&out.stderr).is_empty(), "{}", text(&out.stderr));
}

#[test]
fn check_rejects_a_broken_rule_set_listing_every_problem_with_its_place() {
    let broken = r"
locales: [en]
intents:
  - id: refund
    match: { any: [refund], regex: ['(unclosed'] }
    answer: { en: '{{ shop.name }}' }
  - id: refund
    match: { any: [] }
    answer: { en: ok }
";
    let dir = rules_dir(&[("rules/broken.yaml", broken)]);
    let out = madoguchi(&["check", "--rules", "rules/broken.yaml"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let problems: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("rules/broken.yaml:"))
        .collect();
    assert_eq!(problems.len(), 4, "{stderr}");
    for (line, expected) in problems.iter().zip([
        "rules/broken.yaml:5:37: invalid regex",
        "rules/broken.yaml:6:19: `shop.name` is not defined",
        "rules/broken.yaml:7:9: duplicate intent id `refund`",
        "rules/broken.yaml:8:19: empty `any` list",
    ]) {
        assert!(line.starts_with(expected), "{line} / {expected}");
    }
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn check_reports_a_yaml_syntax_error_with_line_and_column() {
    let dir = rules_dir(&[("rules/a.yaml", "intents:\n  - id: a\n     match: x\n")]);
    let out = madoguchi(&["check"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    let position = first.trim_start_matches("rules/a.yaml:");
    assert!(first.starts_with("rules/a.yaml:"), "{stderr}");
    let mut parts = position.splitn(3, ':');
    assert!(
        parts.next().is_some_and(|l| l.parse::<u32>().is_ok()),
        "{first}"
    );
    assert!(
        parts.next().is_some_and(|c| c.parse::<u32>().is_ok()),
        "{first}"
    );
}

#[test]
fn check_warns_about_collisions_without_failing() {
    let colliding = r"
locales: [en]
intents:
  - id: refund
    match: { any: [refund] }
    answer: { en: ok }
    examples:
      en: [refund the delivery fee]
  - id: delivery_fee
    match: { any: [delivery fee] }
    answer: { en: ok }
";
    let dir = rules_dir(&[("rules/a.yaml", colliding)]);
    let out = madoguchi(&["check"], dir.path(), b"");
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("rules/a.yaml:8:12: warning: example `refund the delivery fee` of `refund` matches `delivery_fee` better"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("1 warning"));
}

#[test]
fn check_fails_clearly_when_the_rules_are_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = madoguchi(&["check"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("rules:1:1: cannot read rules"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn classify_prints_one_json_object_per_input_line() {
    let dir = rules_dir(&[("rules/shop.yaml", SHOP)]);
    let input = "ご注文1234-5678がまだ届きません\nHi, where is my order?\n\nwhat is the capital of France\n";
    let out = madoguchi(&["classify", "--answers"], dir.path(), input.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 4);

    let ja = &lines[0];
    assert_eq!(ja["intent"], "order_status");
    assert_eq!(ja["locale"], "ja");
    assert_eq!(ja["details"]["order_number"], "1234-5678");
    assert!(ja["score"].as_f64().unwrap_or(0.0) >= 0.5);
    assert_eq!(ja["evidence"][0]["pattern"], "まだ届");
    assert_eq!(ja["answer"], "ご注文1234-5678の配送状況をお調べします。");

    assert_eq!(lines[1]["intent"], "order_status");
    assert_eq!(lines[1]["locale"], "en");
    assert_eq!(lines[1]["answer"], "We'll check on your order.");

    for empty_or_unknown in &lines[2..] {
        assert_eq!(empty_or_unknown["intent"], serde_json::Value::Null);
        assert_eq!(empty_or_unknown["evidence"], serde_json::json!([]));
    }
}

#[test]
fn classify_survives_invalid_utf8_and_windows_line_ends() {
    let dir = rules_dir(&[("rules/shop.yaml", SHOP)]);
    let out = madoguchi(
        &["classify"],
        dir.path(),
        b"\xff\xfe broken\r\nwhere is my order\r\n",
    );
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["text"], "where is my order");
    assert_eq!(lines[1]["intent"], "order_status");
}

#[test]
fn classify_refuses_a_broken_rule_set() {
    let dir = rules_dir(&[("rules/a.yaml", "intents: [")]);
    let out = madoguchi(&["classify"], dir.path(), b"hello\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).is_empty());
    assert!(text(&out.stderr).starts_with("rules/a.yaml:"));
}

#[test]
fn the_example_rule_set_checks_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = madoguchi(&["check", "--rules", "rules"], root, b"");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.is_empty(),
        "the example rules should have no warnings:\n{stderr}"
    );
    let summary = text(&out.stdout);
    let intents: usize = summary
        .split(" intents")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(intents >= 31, "{summary}");
}

#[test]
fn classify_reports_sentiment_complaint_safety_and_cues() {
    let dir = rules_dir(&[("rules/shop.yaml", SHOP)]);
    let input = "一週間たっても届きません。どうなっているんですか\nWhere is my order?\n";
    let out = madoguchi(&["classify"], dir.path(), input.as_bytes());
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let upset = &lines[0];
    assert!(upset["sentiment"].as_f64().unwrap_or(0.0) < -0.2, "{upset}");
    assert_eq!(upset["complaint"], true);
    assert_eq!(upset["safety"], false);
    let cue = &upset["cues"][0];
    assert!(
        cue["kind"].is_string() && cue["term"].is_string() && cue["start"].is_number(),
        "{cue}"
    );
    assert_eq!(lines[1]["complaint"], false);
    assert_eq!(lines[1]["cues"], serde_json::json!([]));
}

#[test]
fn eval_measures_intents_and_complaints_as_json_and_text() {
    let data = concat!(
        r#"{"text": "荷物がまだ届かないです", "intent": "order_status", "complaint": false}"#,
        "\n",
        r#"{"text": "Where is my order? It's been three weeks and no reply. Unacceptable.", "intent": "order_status", "complaint": true}"#,
        "\n",
        r#"{"text": "What's the weather tomorrow?", "intent": null, "complaint": false}"#,
        "\n",
        r#"{"text": "Can I pay by card?", "intent": "payment"}"#,
        "\n",
    );
    let map = "payment: null\n";
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        ("data.jsonl", data),
        ("map.yaml", map),
    ]);
    let out = madoguchi(
        &[
            "eval",
            "--data",
            "data.jsonl",
            "--map",
            "map.yaml",
            "--json",
        ],
        dir.path(),
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(report["lines"], 4);
    assert_eq!(report["intent_lines"], 4);
    assert_eq!(report["accuracy"], 1.0);
    assert_eq!(report["out_of_scope"]["lines"], 1);
    assert_eq!(report["out_of_scope"]["answered"], 0);
    assert_eq!(report["complaint"]["tp"], 1);
    assert_eq!(report["complaint"]["tn"], 2);
    assert_eq!(report["complaint_by_locale"]["ja"]["tn"], 1);

    let out = madoguchi(
        &["eval", "--data", "data.jsonl", "--map", "map.yaml"],
        dir.path(),
        b"",
    );
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("data.jsonl: 4 lines"), "{stdout}");
    assert!(stdout.contains("accuracy 1.000"), "{stdout}");
    assert!(
        stdout.contains("out of scope: 1 lines, 0 wrongly answered (0.0%)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("complaints (en): precision 1.000, recall 1.000"),
        "{stdout}"
    );
}

#[test]
fn eval_rejects_a_malformed_line_with_its_number() {
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        ("data.jsonl", "{\"text\": \"ok\"}\nnot json\n"),
    ]);
    let out = madoguchi(&["eval", "--data", "data.jsonl"], dir.path(), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("data.jsonl:2: not a labelled message"),
        "{}",
        text(&out.stderr)
    );
}

const CONVERSATION: &str = r"
conversations:
  - name: 配送状況を聞く
    turns:
      - say: 荷物がまだ届かないです
        expect: { intent: order_status, state: bot, reply_contains: 配送状況 }
  - name: A question the rules cannot answer falls back
    turns:
      - say: What's the weather like?
        expect: { action: fallback, intent: null }
";

#[test]
fn test_runs_conversations_and_sums_up_on_the_last_line() {
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        ("conversations/basics.yaml", CONVERSATION),
    ]);
    let out = Command::new(BINARY)
        .current_dir(dir.path())
        .args(["test", "--uncovered"])
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(stdout.lines().last(), Some("2 passed, 0 failed"));
    assert!(
        stdout.contains("intents no conversation exercises: human"),
        "{stdout}"
    );
}

#[test]
fn a_failing_conversation_shows_what_was_expected_and_what_came() {
    let failing = CONVERSATION.replace("intent: order_status", "intent: refund");
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        ("conversations/basics.yaml", &failing),
    ]);
    let out = Command::new(BINARY)
        .current_dir(dir.path())
        .arg("test")
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED conversations/basics.yaml:3:11: 配送状況を聞く"),
        "{stdout}"
    );
    assert!(
        stdout.contains("customer: 荷物がまだ届かないです"),
        "{stdout}"
    );
    assert!(stdout.contains("- expected: refund"), "{stdout}");
    assert!(stdout.contains("+ got:      order_status"), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed"));
}

#[test]
fn a_conversation_that_taps_a_quick_reply_never_offered_fails() {
    let tapping = r"
conversations:
  - name: Taps a button that is not there
    turns:
      - say: Where is my parcel?
        tap: order_status
        expect: { intent: order_status }
";
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        ("conversations/tap.yaml", tapping),
    ]);
    let out = Command::new(BINARY)
        .current_dir(dir.path())
        .arg("test")
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("quick reply offered"), "{stdout}");
    assert!(stdout.contains("- expected: order_status"), "{stdout}");
}

#[test]
fn test_fails_when_no_conversation_ran() {
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        ("conversations/empty.yaml", "conversations: []\n"),
    ]);
    let out = Command::new(BINARY)
        .current_dir(dir.path())
        .arg("test")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).lines().last(), Some("0 passed, 0 failed"));
    assert!(text(&out.stderr).contains("no conversation test ran"));
}

#[test]
fn a_broken_conversation_file_is_reported_at_its_place() {
    let dir = rules_dir(&[
        ("rules/shop.yaml", SHOP),
        (
            "conversations/bad.yaml",
            "conversations:\n  - name: x\n    at: yesterday\n    turns:\n      - say: hi\n        expect: { intnet: greeting }\n",
        ),
    ]);
    let out = Command::new(BINARY)
        .current_dir(dir.path())
        .arg("test")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("conversations/bad.yaml:6:"), "{stderr}");
    assert!(stderr.contains("intnet"), "{stderr}");
}

#[test]
fn classify_says_whether_a_message_alone_escalates() {
    let dir = rules_dir(&[("rules/shop.yaml", SHOP)]);
    let out = madoguchi(
        &["classify"],
        dir.path(),
        "人と話したいです\n荷物がまだ届かないです\n".as_bytes(),
    );
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines[0]["escalate"], true);
    assert_eq!(lines[0]["escalation_reason"], "human_requested");
    assert_eq!(lines[1]["escalate"], false);
    assert_eq!(lines[1]["escalation_reason"], serde_json::Value::Null);
}

/// `serve` with these arguments (and a fresh SQLite file unless a
/// database is given), expected to fail to start: its stderr.
fn serve_fails(args: &[&str]) -> String {
    let database = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", database.path().join("m.db").display());
    let mut command = Command::new(BINARY);
    command.arg("serve").arg("--rules");
    command.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"));
    if !args.contains(&"--database") {
        command.args(["--database", &url]);
    }
    let out = command.args(args).output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn start_up_errors_name_their_cause_once_with_the_path_or_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let stderr = serve_fails(&["--listen", &address]);
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
    assert_eq!(stderr.matches("os error 98").count(), 1, "{stderr}");

    let stderr = serve_fails(&["--config", "/nonexistent/madoguchi.toml"]);
    assert!(stderr.contains("/nonexistent/madoguchi.toml"), "{stderr}");

    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    let stderr = serve_fails(&[
        "--listen",
        "127.0.0.1:0",
        "--database",
        &format!("postgres://madoguchi@127.0.0.1:{port}/none"),
    ]);
    assert!(stderr.contains("Connection refused"), "{stderr}");
    assert_eq!(stderr.matches("Connection refused").count(), 1, "{stderr}");
}

/// The README's `classify` example is what `classify` prints for it with
/// the example rules, to the line and column of the pattern: it is checked
/// here so that it cannot drift as the rules grow.
#[test]
fn the_readme_classify_example_is_what_classify_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("### `classify` output")
        .nth(1)
        .expect("the README has a classify output section");
    let example = section
        .split("```json")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a JSON example");
    let documented: serde_json::Value = serde_json::from_str(example).unwrap();
    let text = documented["text"].as_str().unwrap();
    let out = madoguchi(&["classify"], root, format!("{text}\n").as_bytes());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, documented, "update the README's example");
}
