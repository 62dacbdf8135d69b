//! Quoted history and signatures in the plain-text body of a customer's
//! mail. A reply carries the thread above, below or around what the
//! customer wrote this time, and most mails end in a signature: classified
//! whole, the old messages would decide the intent. [`strip`] keeps the
//! customer's new text and names the kinds of text it cut; the body itself
//! is stored as it came, so an agent sees both.
//!
//! The scan goes line by line from the top, on CRLF or LF text, with
//! half-width and full-width punctuation and any indentation:
//! - A quoted line (`>`, `＞`, `> >`) is cut wherever it stands, so the
//!   answers a customer writes between quotes stay.
//! - A reply header that introduces a quote (`On … wrote:`,
//!   `2023年11月17日(金) 14:06 山田 太郎 <…>:`, `山田様は書きました:`, also
//!   wrapped over two lines) is cut with the quote, and the scan goes on
//!   below it: what follows a quote that the mail program marked line by
//!   line is the customer's again (bottom posting, inline answers), which
//!   is also what keeps a mail that begins with the quote from coming out
//!   empty. A dated header followed by unmarked text ends the customer's
//!   text: the rest is the old message.
//! - An original-message marker (`-----Original Message-----`,
//!   `-------- 元のメッセージ --------`) or Outlook's header block (`From:`,
//!   `Sent:`, `To:`; `差出人:`, `送信日時:`, `宛先:`) ends it.
//! - So does a forward marker (`---------- Forwarded message ---------`,
//!   `-------- 転送メッセージ --------`): what follows is someone else's
//!   mail passed on, not the customer's words, so a mail forwarded with
//!   nothing written above it comes out empty.
//! - A signature ends it: below `-- `, below a rule line (`━━━━`,
//!   `==========`, `＊＊＊＊＊`) when all that follows is a few short lines
//!   that read like a signature, and from a mobile mail program's line
//!   (`Sent from my iPhone`, `iPhoneから送信`). A signature is only looked
//!   for below some text of the customer's, so that a rule at the top of a
//!   mail does not empty it.

use std::sync::LazyLock;

use regex::Regex;

/// What is left of a mail body for classification, and what was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stripped {
    /// The customer's own new text, trimmed (may be empty if the mail was
    /// only a quote). Its lines are separated by `\n`, whatever the mail
    /// used, and the blank lines a removed quote leaves are folded into one.
    pub text: String,
    /// Why text was cut, in order of where the first cut happened; empty
    /// when nothing was.
    pub cuts: Vec<Cut>,
}

/// A kind of cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Lines marked as quoted: `>`, `＞`, nested `> >`.
    QuotedLines,
    /// A reply header (`On … wrote:`, `… は書きました:`) and the history
    /// below it.
    ReplyHeader,
    /// An original-message or forward marker, or Outlook's header block,
    /// and everything below it.
    ForwardedOrOriginal,
    /// A signature and everything below it.
    Signature,
}

impl Cut {
    /// The cut's name, as logs and the agent's view show it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::QuotedLines => "quoted_lines",
            Self::ReplyHeader => "reply_header",
            Self::ForwardedOrOriginal => "original_message",
            Self::Signature => "signature",
        }
    }
}

/// The most lines a signature has below its rule: more, and the rule is
/// a divider in the customer's text.
const MAX_SIGNATURE_LINES: usize = 10;

/// The longest signature line, in characters: a company's address in one
/// line fits, a paragraph does not.
const MAX_SIGNATURE_LINE_CHARS: usize = 80;

/// How many lines below `From:` Outlook's block is looked for.
const OUTLOOK_FIELDS_WINDOW: usize = 5;

/// The longest reply header, in characters, with a name and an address.
const MAX_HEADER_CHARS: usize = 300;

/// The longest undated `… wrote:` line taken for an attribution: a name,
/// not a sentence.
const MAX_ATTRIBUTION_CHARS: usize = 80;

/// The characters a rule line is drawn with, in ASCII and in the
/// full-width and box-drawing forms Japanese signatures use.
const RULE_CHARS: &[char] = &[
    '-', '=', '_', '*', '~', '#', '+', '━', '─', '═', '＝', '－', '―', '〜', '～', '※', '＊', '＿',
    'ー', '◆', '◇', '■', '□', '☆', '★', '●', '○', '・',
];

/// The shortest rule line, in rule characters: `---` is Markdown's, not a
/// signature's.
const MIN_RULE_CHARS: usize = 4;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("valid regex: {e}"))
}

/// How a reply header ends: `wrote:`, `は書きました:`.
static WROTE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)(?:\bwrote|は書きました)\s*[:：]$"));

/// A name with an honorific before `は書きました:`: a header even undated,
/// as no one writes that of themselves.
static HONORIFIC_WROTE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:さん|様|さま|氏|殿)\s*は書きました\s*[:：]$"));

/// Where a dated header starts: `On …` or the date itself.
static STARTS_LIKE_HEADER: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)^(?:on\s|\d)"));

/// A time (`14:06`) or a numeric date (`2023-11-17`, `2023/11/17`,
/// `2023年11月`, `11/17`).
static DATE_OR_TIME: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\d{1,2}\s*[:：]\s*\d{2}|\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*[/月]\s*\d{1,2}")
});

/// An e-mail address.
static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| regex(r"[^\s<>@()（）]+@[^\s<>@()（）]+\.[A-Za-z]{2,}"));

/// Gmail's Japanese header: date, weekday, time, sender, colon. The
/// sender part has no particle, so that a sentence starting with a date
/// (`2023年11月17日(金) 14:00 に注文した商品：`) is not one.
static JA_DATE_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:[(（][^)）]{1,4}[)）])?\s*\d{1,2}\s*[:：]\s*\d{2}(?:\s*[:：]\s*\d{2})?\s*[^。、！？!?にをがで]{1,100}[:：]$",
    )
});

/// The iPhone's Japanese header: `2023/11/17 14:06、山田 太郎 <…>のメール:`.
static IOS_JA_HEADER: LazyLock<Regex> = LazyLock::new(|| regex(r"のメール\s*[:：]$"));

/// Lines that end the customer's text for an earlier or a forwarded mail.
static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:[-－―─=_]{2,}\s*(?:original message|forwarded message|元のメッセージ|転送メッセージ|転送されたメッセージ)\s*[-－―─=_]{2,}|begin forwarded message\s*[:：]|転送されたメッセージ\s*[:：])$",
    )
});

/// A field of Outlook's header block, English or Japanese.
static FIELD: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)^(from|sent|date|to|cc|subject|差出人|送信者|送信日時|日付|宛先|件名)\s*[:：]")
});

/// The line a mobile mail program adds in place of a signature.
static MOBILE_SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^(?:sent from my [\w\s]{2,30}|sent from (?:mail|outlook|yahoo mail) for [\w\s]{2,20}|get outlook for (?:ios|android)|outlook for (?:ios|android)\s*から送信|(?:ios|android)\s*版\s*outlook\s*を?入手|(?:my\s*)?(?:iphone|ipad|android)(?:\s*の\s*(?:gmail|outlook|メール))?\s*から送信)$",
    )
});

/// What a signature has and the lines below a divider in a question
/// seldom do: a phone or fax number, an address, a URL, a company's legal
/// form.
static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b(?:tel|fax|phone|mobile|e-?mail|url)\b|https?://|www\.|@|〒|株式会社|有限会社|合同会社|[(（]株[)）]|㈱|\b(?:inc|ltd|llc|corp|co)\b|電話|携帯|\d{2,5}[-‐－ー]\d{1,4}[-‐－ー]\d{3,4}",
    )
});

/// How a sentence reads: Japanese sentence marks anywhere, or a full stop,
/// question or exclamation mark at the end.
static SENTENCE: LazyLock<Regex> = LazyLock::new(|| regex(r"[。？！]|[.．?!]$"));

/// A company's or a title's abbreviation, whose full stop ends no sentence.
static ABBREVIATION_END: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)\b(?:co|ltd|inc|corp|dept|jr|sr)\.$"));

/// The customer's new text in `body`, without quoted history and
/// signatures, and the kinds of text that were cut.
#[must_use]
pub fn strip(body: &str) -> Stripped {
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    let mut kept = Kept::default();
    let mut i = 0;
    while i < lines.len() {
        match step(&lines, i, kept.has_text) {
            Step::Keep => {
                kept.push(lines[i]);
                i += 1;
            }
            Step::Skip(cut, count) => {
                kept.cut(cut);
                i += count;
            }
            Step::Stop(cut) => {
                kept.cut(cut);
                break;
            }
        }
    }
    kept.finish()
}

/// What the scan does at a line.
enum Step {
    /// The line is the customer's.
    Keep,
    /// This many lines are cut; the customer's text may go on below.
    Skip(Cut, usize),
    /// The customer's text ends above this line.
    Stop(Cut),
}

/// What line `i` is, given whether the customer has written anything
/// above it.
fn step(lines: &[&str], i: usize, has_text: bool) -> Step {
    let line = lines[i].trim();
    if is_quoted(line) {
        return Step::Skip(Cut::QuotedLines, 1);
    }
    if let Some(header) = reply_header(lines, i) {
        if quote_follows(lines, i + header.lines) {
            return Step::Skip(Cut::ReplyHeader, header.lines);
        }
        if header.kind == HeaderKind::Dated {
            return Step::Stop(Cut::ReplyHeader);
        }
    }
    if MARKER.is_match(line) || outlook_block(lines, i) {
        return Step::Stop(Cut::ForwardedOrOriginal);
    }
    if MOBILE_SIGNATURE.is_match(line) {
        // Above any text of the customer's, it signs nothing: whatever
        // follows may still be theirs.
        return if has_text {
            Step::Stop(Cut::Signature)
        } else {
            Step::Skip(Cut::Signature, 1)
        };
    }
    if has_text && signature_follows(lines, i) {
        return Step::Stop(Cut::Signature);
    }
    Step::Keep
}

/// The customer's lines and the cuts, as the scan finds them.
#[derive(Default)]
struct Kept<'a> {
    lines: Vec<&'a str>,
    cuts: Vec<Cut>,
    has_text: bool,
}

impl<'a> Kept<'a> {
    fn push(&mut self, line: &'a str) {
        self.has_text |= !line.trim().is_empty();
        self.lines.push(line);
    }

    fn cut(&mut self, cut: Cut) {
        if !self.cuts.contains(&cut) {
            self.cuts.push(cut);
        }
    }

    fn finish(self) -> Stripped {
        let mut text = String::new();
        let mut blank_above = false;
        for line in self.lines.iter().map(|l| l.trim_end()) {
            if line.is_empty() {
                blank_above = !text.is_empty();
                continue;
            }
            if !text.is_empty() {
                text.push_str(if blank_above { "\n\n" } else { "\n" });
            }
            text.push_str(if text.is_empty() {
                line.trim_start()
            } else {
                line
            });
            blank_above = false;
        }
        Stripped {
            text,
            cuts: self.cuts,
        }
    }
}

fn is_quoted(line: &str) -> bool {
    line.starts_with(['>', '＞'])
}

/// Whether the first line with text at or below `from` is quoted.
fn quote_follows(lines: &[&str], from: usize) -> bool {
    lines
        .iter()
        .skip(from)
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
        .is_some_and(is_quoted)
}

/// A reply header found at a line.
struct Header {
    /// How many lines it takes (Gmail wraps long ones).
    lines: usize,
    kind: HeaderKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKind {
    /// It has a date, an address or an honorific: a header wherever it is.
    Dated,
    /// Only `… wrote:`: a header when a quote follows it, else perhaps
    /// the customer's own sentence.
    Attribution,
}

/// The reply header at line `i`, on that line or wrapped onto the next.
fn reply_header(lines: &[&str], i: usize) -> Option<Header> {
    let line = lines[i].trim();
    if let Some(kind) = header_kind(line) {
        return Some(Header { lines: 1, kind });
    }
    let next = lines.get(i + 1)?.trim();
    let wrapped = ends_with_colon(next)
        && !is_quoted(line)
        && !is_quoted(next)
        && header_kind(next) != Some(HeaderKind::Dated)
        && STARTS_LIKE_HEADER.is_match(line)
        && !SENTENCE.is_match(line);
    if !wrapped {
        return None;
    }
    let joined = format!("{line} {next}");
    (header_kind(&joined) == Some(HeaderKind::Dated)).then_some(Header {
        lines: 2,
        kind: HeaderKind::Dated,
    })
}

/// Whether `line` (trimmed, or two joined) is a reply header, and how
/// sure that is.
fn header_kind(line: &str) -> Option<HeaderKind> {
    if !ends_with_colon(line) || line.chars().count() > MAX_HEADER_CHARS {
        return None;
    }
    if JA_DATE_HEADER.is_match(line) {
        return Some(HeaderKind::Dated);
    }
    let dated = STARTS_LIKE_HEADER.is_match(line) && DATE_OR_TIME.is_match(line);
    if WROTE.is_match(line) {
        if dated || ADDRESS.is_match(line) || HONORIFIC_WROTE.is_match(line) {
            return Some(HeaderKind::Dated);
        }
        return (line.chars().count() <= MAX_ATTRIBUTION_CHARS).then_some(HeaderKind::Attribution);
    }
    (dated && IOS_JA_HEADER.is_match(line)).then_some(HeaderKind::Dated)
}

fn ends_with_colon(line: &str) -> bool {
    line.ends_with([':', '：'])
}

/// What a line of Outlook's header block names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    From,
    Date,
    /// `To:`, `Cc:`, `Subject:` and their Japanese names.
    Addressee,
}

fn field(line: &str) -> Option<Field> {
    let name = FIELD.captures(line)?.get(1)?.as_str().to_ascii_lowercase();
    Some(match name.as_str() {
        "from" | "差出人" | "送信者" => Field::From,
        "sent" | "date" | "送信日時" | "日付" => Field::Date,
        _ => Field::Addressee,
    })
}

/// Whether Outlook's header block starts at line `i`: `From:` followed
/// by a date and a recipient or subject, perhaps below Outlook's rule of
/// underscores. One `From:` line alone may be the customer's (`From:
/// my old address`), the fields together are not.
fn outlook_block(lines: &[&str], i: usize) -> bool {
    if lines[i].trim().is_empty() {
        return false;
    }
    let mut rest = lines[i..]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty());
    let Some(mut first) = rest.next() else {
        return false;
    };
    if is_outlook_rule(first) {
        let Some(below) = rest.next() else {
            return false;
        };
        first = below;
    }
    if field(first) != Some(Field::From) {
        return false;
    }
    let (mut dated, mut addressed) = (false, false);
    for line in rest.take(OUTLOOK_FIELDS_WINDOW) {
        match field(line) {
            Some(Field::Date) => dated = true,
            Some(Field::Addressee) => addressed = true,
            Some(Field::From) | None => break,
        }
    }
    dated && addressed
}

fn is_outlook_rule(line: &str) -> bool {
    line.chars().count() >= 10 && line.chars().all(|c| c == '_' || c == '＿')
}

/// Whether `line` is drawn only with rule characters, at least
/// [`MIN_RULE_CHARS`] of them.
fn is_rule(line: &str) -> bool {
    let mut count = 0;
    for c in line.chars().filter(|c| !c.is_whitespace()) {
        if !RULE_CHARS.contains(&c) {
            return false;
        }
        count += 1;
    }
    count >= MIN_RULE_CHARS
}

/// Whether line `i` is a signature's separator with a signature below
/// it: `-- ` (RFC 3676; `--` too, as trailing spaces get lost), or a
/// rule followed by short lines with a way to reach someone in them. The
/// signature runs to the end, or to where the quoted history starts.
fn signature_follows(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let needs_contact = match line {
        "--" => false,
        _ if is_rule(line) => true,
        _ => return false,
    };
    let mut count = 0;
    let mut skipped = 0;
    let mut contact = false;
    for (j, raw) in lines.iter().enumerate().skip(i + 1) {
        let below = raw.trim();
        if below.is_empty() || below == "--" || is_rule(below) {
            // A signature is a few lines: a long run of blanks and rules
            // is none, and scanning it from every rule above would cost
            // the square of the mail's length.
            skipped += 1;
            if skipped > MAX_SIGNATURE_LINES * 2 {
                return false;
            }
            continue;
        }
        if history_starts(lines, j) {
            break;
        }
        count += 1;
        if count > MAX_SIGNATURE_LINES || !is_signature_line(below) {
            return false;
        }
        contact |= CONTACT.is_match(below);
    }
    count > 0 && (contact || !needs_contact)
}

/// Whether line `j` starts an earlier or a forwarded message.
fn history_starts(lines: &[&str], j: usize) -> bool {
    let line = lines[j].trim();
    is_quoted(line)
        || reply_header(lines, j).is_some()
        || MARKER.is_match(line)
        || outlook_block(lines, j)
}

/// A name, a title, a company, an address, a number: short and not a
/// sentence.
fn is_signature_line(line: &str) -> bool {
    line.chars().count() <= MAX_SIGNATURE_LINE_CHARS
        && (!SENTENCE.is_match(line) || ABBREVIATION_END.is_match(line))
}

#[cfg(test)]
mod tests;
