//! Reading one raw RFC 5322 message into what the channel needs: who sent
//! it, threading, the decoded text, attachments, and the headers that
//! decide whether it may be answered.
//!
//! mail-parser does the MIME work (multipart, quoted-printable, base64,
//! RFC 2047, HTML to text, and the Japanese charsets through `encoding_rs`).
//! Two gaps are filled here, both about Japanese mail: charset labels that
//! mail clients use but mail-parser does not know (`cp932`,
//! `iso-2022-jp-ms`, `cp50220`...) are renamed to the `encoding_rs` decoder
//! that reads them before parsing, and a text part with no charset whose
//! bytes carry ISO-2022-JP escape sequences is read as ISO-2022-JP.

use std::borrow::Cow;
use std::sync::LazyLock;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use regex::bytes::Regex;

use crate::store::Attachment;

/// Why a message cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Undecodable {
    /// Not a message at all.
    #[error("not an RFC 5322 message")]
    NotAMessage,
    /// No sender address.
    #[error("the message has no From address")]
    NoSender,
    /// The text is in a charset that could not be read.
    #[error("the text could not be decoded (charset {0})")]
    Charset(String),
}

/// A parsed inbound mail.
#[derive(Debug, Clone, Default)]
pub struct Inbound {
    /// Its Message-ID, without angle brackets (one is made up from the
    /// content when the message has none).
    pub message_id: String,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, oldest first.
    pub references: Vec<String>,
    /// The From address, lower case.
    pub from: String,
    /// The From display name.
    pub name: Option<String>,
    /// Where replies go: `Reply-To` if given, else From.
    pub reply_to: String,
    /// The envelope sender from `Return-Path`: `Some("")` for the null
    /// sender `<>`, `None` when the header is missing.
    pub return_path: Option<String>,
    /// The subject, decoded.
    pub subject: String,
    /// The text of the body (HTML turned into text), decoded.
    pub body: String,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Headers, lower-case names with their raw values, in order.
    pub headers: Vec<(String, String)>,
    /// For a delivery status notification: what it reports.
    pub bounce: Option<Bounce>,
}

/// What a delivery status notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounce {
    /// The Message-ID of the mail that failed, when it is quoted.
    pub message_id: Option<String>,
    /// The recipients that failed for good.
    pub failed: Vec<String>,
    /// The status (`5.1.1`) or the reason given.
    pub status: Option<String>,
}

impl Inbound {
    /// The values of a header (lower-case name).
    pub fn header<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.trim())
    }

    /// Whether the message has a header of this name.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.header(name).next().is_some()
    }
}

/// Charset labels mail clients use that mail-parser does not map, with the
/// label of the decoder that reads them. Microsoft's ISO-2022-JP variants
/// (CP50220-50222) add NEC and IBM characters (①, ㈱, Ⅲ) that `encoding_rs`'s
/// ISO-2022-JP decoder already reads, as its `Shift_JIS` reads CP932's.
const CHARSET_ALIASES: &[(&str, &str)] = &[
    ("cp932", "shift_jis"),
    ("x-ms-cp932", "shift_jis"),
    ("ibm-943", "shift_jis"),
    ("sjis-win", "shift_jis"),
    ("sjis-open", "shift_jis"),
    ("shift_jisx0213", "shift_jis"),
    ("iso-2022-jp-ms", "iso-2022-jp"),
    ("cp50220", "iso-2022-jp"),
    ("cp50221", "iso-2022-jp"),
    ("cp50222", "iso-2022-jp"),
    ("x-windows-iso2022jp", "iso-2022-jp"),
    ("eucjp-ms", "euc-jp"),
    ("euc-jp-ms", "euc-jp"),
    ("eucjp-win", "euc-jp"),
    ("cp51932", "euc-jp"),
    ("x-eucjp-open", "euc-jp"),
];

/// A charset label where a message names one: in a `charset=` parameter
/// (quoted or not) or an RFC 2047 encoded word (`=?label?`).
static CHARSET_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(charset\s*=\s*"?|=\?)([a-z0-9_.:-]+)"#).expect("a valid pattern")
});

/// The message with charset labels mail-parser does not know renamed to
/// ones it does.
fn with_known_charsets(raw: &[u8]) -> Cow<'_, [u8]> {
    CHARSET_LABEL.replace_all(raw, |c: &regex::bytes::Captures<'_>| {
        let label = String::from_utf8_lossy(&c[2]).to_ascii_lowercase();
        let known = CHARSET_ALIASES
            .iter()
            .find(|(alias, _)| *alias == label)
            .map_or(&c[2], |(_, known)| known.as_bytes());
        [&c[1], known].concat()
    })
}

/// ISO-2022-JP's escape sequences into JIS X 0208 and JIS X 0201.
fn has_iso2022jp_escapes(text: &str) -> bool {
    ["\u{1b}$B", "\u{1b}$@", "\u{1b}(J", "\u{1b}(I"]
        .iter()
        .any(|e| text.contains(e))
}

/// Parses a raw message.
///
/// # Errors
/// [`Undecodable`] when it is not a message, has no sender, or its text
/// cannot be read.
pub fn parse(raw: &[u8]) -> Result<Inbound, Undecodable> {
    let bytes = with_known_charsets(raw);
    let message = MessageParser::default()
        .parse(bytes.as_ref())
        .ok_or(Undecodable::NotAMessage)?;
    if message.headers().is_empty() {
        return Err(Undecodable::NotAMessage);
    }
    let (from, name) = first_address(message.from()).ok_or(Undecodable::NoSender)?;
    let reply_to = first_address(message.reply_to()).map_or_else(|| from.clone(), |(a, _)| a);
    let body = body_text(&message)?;
    let subject = message.subject().map(str::to_owned).unwrap_or_default();
    // An encoded word in a label mail-parser does not know is left as its
    // 7-bit bytes: escape sequences say it is one of the ISO-2022-JPs.
    let subject = if has_iso2022jp_escapes(&subject) || subject.contains("\u{1b}$(D") {
        decode_iso2022jp2(&subject)
    } else {
        subject
    };
    if subject.contains('\u{fffd}') {
        return Err(Undecodable::Charset("of the subject".to_owned()));
    }
    let headers = message
        .headers()
        .iter()
        .map(|h| {
            let value = message
                .raw_message()
                .get(h.offset_start() as usize..h.offset_end() as usize)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            (h.name().to_ascii_lowercase(), unfold(&value))
        })
        .collect::<Vec<_>>();
    let message_id = message
        .message_id()
        .map_or_else(|| made_up_id(raw), |id| bounded_id(id.to_owned()));
    Ok(Inbound {
        in_reply_to: ids(message.in_reply_to())
            .into_iter()
            .last()
            .map(bounded_id),
        references: bounded_references(ids(message.references())),
        return_path: return_path(&headers),
        attachments: attachments(&message),
        bounce: bounce(&message, &headers),
        message_id,
        from,
        name,
        reply_to,
        // PostgreSQL's text holds no NUL; no person writes one.
        subject: subject.replace('\0', ""),
        body: body.replace('\0', ""),
        headers,
    })
}

/// The longest Message-ID kept as it is: a longer one (no mail program
/// writes one) is kept as its hash, so that it still threads and fits
/// an index.
const MAX_ID: usize = 250;

fn bounded_id(id: String) -> String {
    if id.len() <= MAX_ID && !id.contains('\0') {
        return id;
    }
    made_up_id(id.as_bytes())
}

/// The most `References` read: the first (the thread's start) and the
/// latest.
const MAX_REFERENCES: usize = 20;

fn bounded_references(ids: Vec<String>) -> Vec<String> {
    super::thread::first_and_latest(ids.into_iter().map(bounded_id).collect(), MAX_REFERENCES)
}

/// A header's value on one line.
fn unfold(value: &str) -> String {
    value
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn first_address(address: Option<&Address<'_>>) -> Option<(String, Option<String>)> {
    let first = address?.first()?;
    let email = first.address()?.trim().to_ascii_lowercase();
    if email.is_empty() || !email.contains('@') {
        return None;
    }
    let name = first
        .name()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    Some((email, name))
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    }
}

/// `Some("")` for `Return-Path: <>`.
fn return_path(headers: &[(String, String)]) -> Option<String> {
    let value = headers
        .iter()
        .find(|(n, _)| n == "return-path")
        .map(|(_, v)| v.trim())?;
    let inner = value.trim_start_matches('<').trim_end_matches('>').trim();
    Some(inner.to_ascii_lowercase())
}

/// A stable id for a message that has none, from its bytes: the same
/// message delivered twice is still taken once.
fn made_up_id(raw: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(raw);
    format!("{}@no-message-id.invalid", hex::encode(&digest[..16]))
}

/// The text the customer wrote: the text parts joined (HTML turned into
/// text when there is no text part).
fn body_text(message: &mail_parser::Message<'_>) -> Result<String, Undecodable> {
    let mut body = String::new();
    for (i, part) in message.text_bodies().enumerate() {
        let text = match &part.body {
            PartType::Text(text) => text.to_string(),
            PartType::Html(_) => message
                .body_text(i)
                .map(Cow::into_owned)
                .unwrap_or_default(),
            _ => continue,
        };
        let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
        let text = match charset {
            None if has_iso2022jp_escapes(&text) => decode_iso2022jp(&text),
            // 7-bit, so mail-parser's UTF-8 fallback kept every byte.
            Some(label) if is_iso2022jp_superset(label) => decode_iso2022jp2(&text),
            _ => text,
        };
        // A charset that was missing or unknown, over bytes that are not
        // UTF-8: guessing would hand the customer's words to the rules
        // garbled.
        if text.contains('\u{fffd}') {
            return Err(Undecodable::Charset(
                charset.unwrap_or("missing").to_owned(),
            ));
        }
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(text.trim_end());
    }
    Ok(body.replace("\r\n", "\n"))
}

/// ISO-2022-JP's extensions (RFC 1554, JIS X 0212 in `-1` and `-2`),
/// which `encoding_rs` does not decode.
fn is_iso2022jp_superset(label: &str) -> bool {
    ["iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3"]
        .iter()
        .any(|l| label.eq_ignore_ascii_case(l))
}

/// Decodes ISO-2022-JP-2 by rewriting it as EUC-JP, which holds the same
/// Japanese sets (JIS X 0208, JIS X 0212 after 0x8F, half-width katakana
/// after 0x8E); Latin-1 by single shift (`ESC . A`, `ESC N`) is read
/// directly. Sets EUC-JP cannot hold (Chinese, Korean, Greek) become
/// U+FFFD, and the mail goes to quarantine.
fn decode_iso2022jp2(text: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Set {
        Ascii,
        Jis0208,
        Jis0212,
        Kana,
        Other,
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut euc = Vec::new();
    let mut set = Set::Ascii;
    let mut latin1 = false;
    let flush = |euc: &mut Vec<u8>, out: &mut String| {
        if !euc.is_empty() {
            out.push_str(&encoding_rs::EUC_JP.decode(euc).0);
            euc.clear();
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            let rest = &bytes[i + 1..];
            let (next, len) = match rest {
                [b'(', b'B' | b'J', ..] => (Some(Set::Ascii), 3),
                [b'(', b'I', ..] => (Some(Set::Kana), 3),
                [b'$', b'@' | b'B', ..] => (Some(Set::Jis0208), 3),
                [b'$', b'(', b'D', ..] => (Some(Set::Jis0212), 4),
                [b'$', b'A', ..] => (Some(Set::Other), 3),
                [b'$', b'(', _, ..] => (Some(Set::Other), 4),
                [b'.', b'A', ..] => {
                    latin1 = true;
                    (None, 3)
                }
                [b'.', _, ..] => {
                    latin1 = false;
                    (None, 3)
                }
                [b'N', c, ..] => {
                    flush(&mut euc, &mut out);
                    out.push(if latin1 {
                        char::from(c | 0x80)
                    } else {
                        '\u{fffd}'
                    });
                    (None, 3)
                }
                _ => (None, 1),
            };
            if let Some(next) = next {
                set = next;
            }
            i += len;
            continue;
        }
        match set {
            Set::Ascii => {
                flush(&mut euc, &mut out);
                out.push(char::from(b));
                i += 1;
            }
            Set::Kana => {
                euc.extend([0x8e, b | 0x80]);
                i += 1;
            }
            Set::Jis0208 | Set::Jis0212 | Set::Other if b == b'\n' || b == b'\r' => {
                flush(&mut euc, &mut out);
                out.push(char::from(b));
                i += 1;
            }
            Set::Jis0208 => {
                euc.extend([b | 0x80, bytes.get(i + 1).copied().unwrap_or(0) | 0x80]);
                i += 2;
            }
            Set::Jis0212 => {
                euc.extend([
                    0x8f,
                    b | 0x80,
                    bytes.get(i + 1).copied().unwrap_or(0) | 0x80,
                ]);
                i += 2;
            }
            Set::Other => {
                flush(&mut euc, &mut out);
                out.push('\u{fffd}');
                i += 2;
            }
        }
    }
    flush(&mut euc, &mut out);
    out
}

fn decode_iso2022jp(text: &str) -> String {
    let (decoded, _, _) = encoding_rs::ISO_2022_JP.decode(text.as_bytes());
    decoded.into_owned()
}

fn attachments(message: &mail_parser::Message<'_>) -> Vec<Attachment> {
    message
        .attachments()
        .filter(|part| !matches!(part.body, PartType::Message(_)))
        .filter(|part| {
            // The parts of a delivery report are its content, not files.
            !part.content_type().is_some_and(|ct| {
                ct.ctype().eq_ignore_ascii_case("message")
                    || ct
                        .subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
            })
        })
        .map(|part| Attachment {
            name: part
                .attachment_name()
                .map_or_else(|| "(unnamed)".to_owned(), str::to_owned),
            content_type: part.content_type().map_or_else(
                || "application/octet-stream".to_owned(),
                |ct| {
                    ct.subtype().map_or_else(
                        || ct.ctype().to_ascii_lowercase(),
                        |sub| format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                    )
                },
            ),
            size: part.contents().len() as u64,
        })
        .collect()
}

static MESSAGE_ID_LINE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?mi)^message-id:\s*<([^>\s]+)>").expect("a valid pattern")
});

static FINAL_RECIPIENT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?mi)^(?:final|original)-recipient:\s*(?:rfc822;)?\s*<?([^\s>]+@[^\s>]+)>?")
        .expect("a valid pattern")
});

static STATUS: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?mi)^status:\s*([245]\.\d{1,3}\.\d{1,3})").expect("a valid pattern")
});

static ACTION_FAILED: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(?mi)^action:\s*failed").expect("a valid pattern"));

/// A delivery status notification (`multipart/report;
/// report-type=delivery-status`) or a bounce that names its failed
/// recipients in `X-Failed-Recipients`: what failed, and the Message-ID of
/// the mail that did, read from the returned message or headers.
fn bounce(message: &mail_parser::Message<'_>, headers: &[(String, String)]) -> Option<Bounce> {
    let is_report = message.content_type().is_some_and(|ct| {
        ct.subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let failed_header: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n == "x-failed-recipients")
        .flat_map(|(_, v)| v.split(','))
        .map(|a| a.trim().trim_matches(['<', '>']).to_ascii_lowercase())
        .filter(|a| a.contains('@'))
        .collect();
    if !is_report && failed_header.is_empty() {
        return None;
    }
    // Everything after the top-level headers, as text: the report's
    // fields and the returned message's headers are in there.
    let raw = message.raw_message();
    let body_start = message.root_part().raw_body_offset() as usize;
    let rest = String::from_utf8_lossy(raw.get(body_start..).unwrap_or_default());
    let mut failed = failed_header;
    if is_report {
        // Each recipient has a block of its own: only those whose action
        // is `failed` failed (another may only be delayed).
        let normalized = rest.replace("\r\n", "\n");
        for block in normalized.split("\n\n") {
            if ACTION_FAILED.is_match(block)
                && let Some(c) = FINAL_RECIPIENT.captures(block)
            {
                failed.push(c[1].to_ascii_lowercase());
            }
        }
    }
    failed.sort();
    failed.dedup();
    Some(Bounce {
        message_id: MESSAGE_ID_LINE
            .captures_iter(&rest)
            .map(|c| c[1].to_owned())
            .next(),
        failed,
        status: STATUS.captures(&rest).map(|c| c[1].to_owned()),
    })
}
