//! The serde form of a rule file: mirrors the YAML, keeps every position.
//!
//! Nothing here is validated beyond its YAML shape; `compile` turns these
//! structures into a [`RuleSet`](super::RuleSet) and reports every problem.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

/// A dialogue reply per locale.
pub type Reply = PerLocale<Spanned<ReplySpec>>;

/// A list of strings, each with its position.
pub type Words = Spanned<Vec<Spanned<String>>>;

/// One YAML file of a rule set. Every key is optional, so a rule set can keep
/// its shop values in one file and its intents in many.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The locales every answer must be written in; the first is the default.
    pub locales: Option<Words>,
    /// The shop's values (name, contact, hours), available to answers as
    /// `{{ shop.NAME }}`.
    pub shop: Option<Spanned<BTreeMap<String, Spanned<ShopValue>>>>,
    /// Rule-set-wide detail extractors: name → regex, run on every message.
    pub details: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// Scoring thresholds.
    pub matching: Option<Spanned<MatchingSpec>>,
    /// Complaint detection: threshold and lexicon additions.
    pub sentiment: Option<Spanned<SentimentSpec>>,
    /// When a person is there to answer: time zone, weekly openings,
    /// holidays and closures.
    pub hours: Option<Spanned<HoursSpec>>,
    /// When the bot hands a conversation to a person, and what it promises.
    pub escalation: Option<Spanned<EscalationSpec>>,
    /// What the bot does when nothing matches.
    pub fallback: Option<Spanned<FallbackSpec>>,
    /// The dialogue's own texts (fallback, questions, escalation replies),
    /// replacing the built-in ones by name.
    pub replies: Option<Spanned<BTreeMap<String, Spanned<Reply>>>>,
    /// The intents of this file.
    #[serde(default)]
    pub intents: Vec<IntentSpec>,
}

/// Scoring thresholds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchingSpec {
    /// Below this score (0–1) a message matches no intent.
    pub min_score: Option<Spanned<f64>>,
    /// A runner-up within this distance of the best score makes the match
    /// ambiguous.
    pub ambiguity_margin: Option<Spanned<f64>>,
    /// Words of the shop's own domain (its orders, parcels, products): a
    /// message that names one is in the shop's context, where `generic`
    /// keywords count.
    pub context: Option<Words>,
    /// Out of the shop's context, a `generic` keyword alone does not count
    /// in a message with this many words its intent does not know.
    pub unknown_words: Option<Spanned<usize>>,
}

/// Complaint detection settings of a rule set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentSpec {
    /// A message whose score (−1 to 1) is at or below this is a complaint.
    pub complaint_threshold: Option<Spanned<f64>>,
    /// Terms to add to the built-in lexicons, or (with weight 0) remove.
    pub lexicon: Option<Spanned<crate::sentiment::LexiconSpec>>,
}

/// An intent as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentSpec {
    /// The intent id (`cancel_order`).
    pub id: Spanned<String>,
    /// −10 to 10; each step scales the evidence by 10%.
    pub priority: Option<Spanned<i32>>,
    /// Labels for routing and reporting (`billing`, `shipping`).
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// What makes a message this intent.
    #[serde(rename = "match")]
    pub patterns: Option<Spanned<MatchSpec>>,
    /// The answer per locale.
    pub answer: Option<Spanned<PerLocale<Spanned<AnswerSpec>>>>,
    /// Phrasings the intent must match, per locale.
    pub examples: Option<Spanned<PerLocale<Words>>>,
    /// A short name per locale, shown on quick replies ("did you mean...?").
    pub label: Option<Spanned<PerLocale<Spanned<String>>>>,
    /// What went wrong for the customer, named in an apology ("配送の遅れ").
    pub trouble: Option<Spanned<PerLocale<Spanned<String>>>>,
    /// Always hand the conversation to a person (legal threats, data
    /// deletion): escalation reason `rule`.
    pub escalate: Option<Spanned<bool>>,
    /// Details to ask for once before answering or escalating.
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    /// The team or queue a handoff about this intent goes to (`shipping`).
    pub team: Option<Spanned<String>>,
}

/// The `hours:` block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSpec {
    /// An IANA time zone; `Asia/Tokyo` when absent.
    pub timezone: Option<Spanned<String>>,
    /// Days (`mon-fri`, `sat`) → openings (`10:00-18:00`, `closed`). With no
    /// `open:`, a person is there around the clock.
    pub open: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    /// `jp`: closed on Japan's public holidays; `none` (the default): not.
    pub holidays: Option<Spanned<String>>,
    /// Closures: one day, or a range, dated (`2026-08-13`) or every year
    /// (`12-29` to `01-03`).
    pub closed: Option<Spanned<Vec<Spanned<ClosureSpec>>>>,
}

/// One closure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureSpec {
    /// The first closed day: `YYYY-MM-DD`, or `MM-DD` for every year.
    pub from: Spanned<String>,
    /// The last closed day (included); the same as `from` when absent.
    pub to: Option<Spanned<String>>,
    /// What it is called, per locale ("年末年始休業").
    pub name: Option<PerLocale<String>>,
}

/// The `escalation:` block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSpec {
    /// A message whose sentiment is at or below this is handed off.
    pub complaint: Option<Spanned<f64>>,
    /// A conversation whose frustration (negative sentiment adding up over
    /// the messages, fading by a fifth at each) reaches this is handed off.
    pub frustration: Option<Spanned<f64>>,
    /// Ask an anonymous chat customer for an e-mail address, once, before
    /// handing off.
    pub ask_email: Option<Spanned<bool>>,
    /// The promised response time, in open hours, per channel.
    pub response_time: Option<Spanned<ResponseTimeSpec>>,
}

/// Promised response times (`30m`, `2h`, `1h30m`) of open hours.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseTimeSpec {
    /// On the chat widget.
    pub chat: Option<Spanned<String>>,
    /// By e-mail.
    pub email: Option<Spanned<String>>,
}

/// The `fallback:` block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackSpec {
    /// After this many fallbacks in a row, hand off instead of looping.
    pub escalate_after: Option<Spanned<i64>>,
    /// Intents offered as quick replies when nothing matched.
    pub topics: Option<Words>,
}

/// A dialogue reply in one locale: one text, several to vary between, or
/// `chat:` and `email:` texts.
#[derive(Debug)]
pub enum ReplySpec {
    /// One text (or one per channel).
    One(AnswerSpec),
    /// Texts taken in turn, so that a repeated reply does not repeat itself.
    Variants(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for ReplySpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ReplyVisitor)
    }
}

struct ReplyVisitor;

impl<'de> Visitor<'de> for ReplyVisitor {
    type Value = ReplySpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a reply text, a list of texts, or `chat:` and `email:` texts")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        AnswerVisitor.visit_str(v).map(ReplySpec::One)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(ReplySpec::Variants)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        AnswerVisitor.visit_map(map).map(ReplySpec::One)
    }
}

/// Patterns that apply in every locale, plus per-locale blocks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// Any of these keywords.
    pub any: Option<Words>,
    /// Words that name the intent only in the shop's context.
    pub generic: Option<Words>,
    /// Groups whose words must all appear.
    pub all: Option<Spanned<Vec<Words>>>,
    /// Words that veto the intent.
    pub not: Option<Words>,
    /// Regular expressions; named captures become details.
    pub regex: Option<Words>,
    /// Patterns that count only in Japanese messages.
    pub ja: Option<Spanned<LocalePatterns>>,
    /// Patterns that count only in English messages.
    pub en: Option<Spanned<LocalePatterns>>,
}

/// The patterns of one locale block.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalePatterns {
    /// Any of these keywords.
    pub any: Option<Words>,
    /// Words that name the intent only in the shop's context.
    pub generic: Option<Words>,
    /// Groups whose words must all appear.
    pub all: Option<Spanned<Vec<Words>>>,
    /// Words that veto the intent.
    pub not: Option<Words>,
    /// Regular expressions; named captures become details.
    pub regex: Option<Words>,
}

/// A borrowed view of one block of patterns: the locale-neutral one at the
/// top of `match:`, or a `ja:`/`en:` block.
#[derive(Debug, Clone, Copy, Default)]
pub struct PatternBlock<'a> {
    /// Any of these keywords.
    pub any: Option<&'a Words>,
    /// Words that name the intent only in the shop's context.
    pub generic: Option<&'a Words>,
    /// Groups whose words must all appear.
    pub all: Option<&'a Spanned<Vec<Words>>>,
    /// Words that veto the intent.
    pub not: Option<&'a Words>,
    /// Regular expressions.
    pub regex: Option<&'a Words>,
}

impl<'a> From<&'a LocalePatterns> for PatternBlock<'a> {
    fn from(p: &'a LocalePatterns) -> Self {
        PatternBlock {
            any: p.any.as_ref(),
            generic: p.generic.as_ref(),
            all: p.all.as_ref(),
            not: p.not.as_ref(),
            regex: p.regex.as_ref(),
        }
    }
}

impl MatchSpec {
    /// The locale-neutral patterns, then each locale's block.
    #[must_use]
    pub fn blocks(&self) -> [(Option<crate::text::Locale>, PatternBlock<'_>); 3] {
        use crate::text::Locale;
        let common = PatternBlock {
            any: self.any.as_ref(),
            generic: self.generic.as_ref(),
            all: self.all.as_ref(),
            not: self.not.as_ref(),
            regex: self.regex.as_ref(),
        };
        [
            (None, common),
            (Some(Locale::Ja), block(self.ja.as_ref())),
            (Some(Locale::En), block(self.en.as_ref())),
        ]
    }
}

fn block(patterns: Option<&Spanned<LocalePatterns>>) -> PatternBlock<'_> {
    patterns
        .map(|b| PatternBlock::from(&b.value))
        .unwrap_or_default()
}

/// A value per supported locale.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerLocale<T> {
    /// Japanese.
    pub ja: Option<T>,
    /// English.
    pub en: Option<T>,
}

impl<T> PerLocale<T> {
    /// The value for `locale`.
    pub fn get(&self, locale: crate::text::Locale) -> Option<&T> {
        match locale {
            crate::text::Locale::Ja => self.ja.as_ref(),
            crate::text::Locale::En => self.en.as_ref(),
        }
    }
}

/// An answer in one locale: one text for every channel, or a short chat text
/// and a fuller e-mail text.
#[derive(Debug)]
pub enum AnswerSpec {
    /// The same template on every channel; its position is the enclosing
    /// `Spanned`'s.
    Same(String),
    /// Per channel; e-mail falls back to chat when missing.
    PerChannel {
        /// The chat template.
        chat: Spanned<String>,
        /// The e-mail template.
        email: Option<Spanned<String>>,
    },
}

impl<'de> Deserialize<'de> for AnswerSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = AnswerSpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answer text, or `chat:` and `email:` texts")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(AnswerSpec::Same(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut chat = None;
        let mut email = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "chat" if chat.is_none() => chat = Some(map.next_value()?),
                "email" if email.is_none() => email = Some(map.next_value()?),
                "chat" | "email" => return Err(de::Error::duplicate_field("chat or email")),
                other => return Err(de::Error::unknown_field(other, &["chat", "email"])),
            }
        }
        let chat = chat.ok_or_else(|| de::Error::missing_field("chat"))?;
        Ok(AnswerSpec::PerChannel { chat, email })
    }
}

/// A shop value: one text for every locale, or one per locale.
#[derive(Debug)]
pub enum ShopValue {
    /// The same in every locale (an e-mail address, a phone number).
    Same(String),
    /// Per locale (the shop's name, its opening hours).
    PerLocale(PerLocale<String>),
}

impl<'de> Deserialize<'de> for ShopValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShopValueVisitor)
    }
}

struct ShopValueVisitor;

impl<'de> Visitor<'de> for ShopValueVisitor {
    type Value = ShopValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a text, or `ja:` and `en:` texts")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(ShopValue::Same(v.to_owned()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(ShopValue::Same(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(ShopValue::Same(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(ShopValue::Same(v.to_string()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        PerLocale::deserialize(de::value::MapAccessDeserializer::new(map)).map(ShopValue::PerLocale)
    }
}
