//! The mail corpus (`tests/mail/corpus`, made by real encoders with
//! `scripts/mail_corpus.py`): each message decoded, stripped, checked for
//! loops and bounces as its `expected.json` entry says.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use madoguchi::channels::email::autoreply::{Us, dmarc_passed, refusal};
use madoguchi::channels::email::parse::parse;
use madoguchi::channels::email::quote::strip;
use serde_json::Value;

const US: Us<'static> = Us {
    address: "support@shop.example",
    domain: "shop.example",
    authserv_id: Some("mx.shop.example"),
};

fn corpus() -> Vec<(String, Vec<u8>, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/corpus");
    let expected: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    expected
        .into_iter()
        .map(|e| {
            let file = e["file"].as_str().unwrap().to_owned();
            let raw = std::fs::read(dir.join(&file)).unwrap();
            (file, raw, e)
        })
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn bare(id: &str) -> String {
    id.trim_matches(['<', '>']).to_owned()
}

/// Checks one message; returns what is wrong with it.
fn check(file: &str, raw: &[u8], e: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let outcome = e["outcome"].as_str().unwrap();
    let mail = match parse(raw) {
        Ok(mail) => mail,
        Err(why) => {
            if outcome != "quarantined" {
                wrong.push(format!("{file}: not decoded ({why}), expected {outcome}"));
            }
            return wrong;
        }
    };
    if outcome == "quarantined" {
        wrong.push(format!("{file}: decoded, expected quarantine"));
        return wrong;
    }
    if let Some(from) = e["from"].as_str()
        && mail.from != from
    {
        wrong.push(format!("{file}: from {} != {from}", mail.from));
    }
    if let Some(subject) = e["subject"].as_str()
        && mail.subject != subject
    {
        wrong.push(format!("{file}: subject {:?} != {subject:?}", mail.subject));
    }
    match (outcome, &mail.bounce) {
        ("bounce", None) => wrong.push(format!("{file}: not read as a bounce")),
        ("bounce", Some(bounce)) => {
            if let Some(id) = e["bounced_message_id"].as_str()
                && bounce.message_id.as_deref() != Some(bare(id).as_str())
            {
                wrong.push(format!(
                    "{file}: bounced id {:?} != {id}",
                    bounce.message_id
                ));
            }
            if let Some(to) = e["bounced_recipient"].as_str()
                && !bounce.failed.iter().any(|f| f == to)
            {
                wrong.push(format!("{file}: failed {:?} lacks {to}", bounce.failed));
            }
            return wrong;
        }
        (_, Some(_)) => wrong.push(format!("{file}: read as a bounce, expected {outcome}")),
        _ => {}
    }
    let refused = refusal(&mail, &US).map(|r| r.reason.as_str());
    let expected_refusal = e["suppressed_by"].as_str();
    if refused != expected_refusal {
        wrong.push(format!(
            "{file}: refusal {refused:?} != {expected_refusal:?}"
        ));
    }
    let stripped = strip(&mail.body);
    for want in strings(&e["text_contains"]) {
        if !stripped.text.contains(&want) {
            wrong.push(format!(
                "{file}: stripped text lacks {want:?}: {:?}",
                stripped.text
            ));
        }
    }
    for unwanted in strings(&e["text_excludes"]) {
        if stripped.text.contains(&unwanted) {
            wrong.push(format!("{file}: stripped text keeps {unwanted:?}"));
        }
    }
    for want in strings(&e["original_contains"]) {
        if !mail.body.contains(&want) {
            wrong.push(format!("{file}: body lacks {want:?}"));
        }
    }
    let attachments: Vec<(String, String, u64)> = mail
        .attachments
        .iter()
        .map(|a| (a.name.clone(), a.content_type.clone(), a.size))
        .collect();
    let expected_attachments: Vec<(String, String, u64)> = e["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["content_type"].as_str().unwrap().to_owned(),
                a["size"].as_u64().unwrap(),
            )
        })
        .collect();
    if attachments != expected_attachments {
        wrong.push(format!(
            "{file}: attachments {attachments:?} != {expected_attachments:?}"
        ));
    }
    let in_reply_to = e["in_reply_to"].as_str().map(bare);
    if mail.in_reply_to != in_reply_to {
        wrong.push(format!(
            "{file}: in-reply-to {:?} != {in_reply_to:?}",
            mail.in_reply_to
        ));
    }
    let references: Vec<String> = strings(&e["references"]).iter().map(|r| bare(r)).collect();
    if mail.references != references {
        wrong.push(format!(
            "{file}: references {:?} != {references:?}",
            mail.references
        ));
    }
    let verified = e["verified_sender"].as_bool().unwrap_or(false);
    if dmarc_passed(&mail, US.authserv_id) != verified {
        wrong.push(format!("{file}: verified sender should be {verified}"));
    }
    wrong
}

#[test]
fn every_message_of_the_corpus_is_read_as_expected() {
    let corpus = corpus();
    assert!(corpus.len() >= 50, "the corpus is there");
    let wrong: Vec<String> = corpus
        .iter()
        .flat_map(|(file, raw, e)| check(file, raw, e))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} problems:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn microsoft_characters_survive_iso_2022_jp() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/corpus");
    let mail = parse(&std::fs::read(dir.join("ja_cp50220_shipping.eml")).unwrap()).unwrap();
    for c in ["①", "㈱", "Ⅲ"] {
        assert!(
            mail.body.contains(c) || mail.subject.contains(c),
            "{c} lost"
        );
    }
}
