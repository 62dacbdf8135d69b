//! The dialogue policy of a rule set: business hours, when to hand off, and
//! what to do when nothing matches. It lives in the rule set so that
//! `check`, `test` and the service all see the same policy.

use jiff::SignedDuration;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_saphyr::Spanned;

use super::IntentIndex;
use super::globals::single;
use super::schema::{ClosureSpec, EscalationSpec, FallbackSpec, HoursSpec};
use super::source::ParsedFile;
use crate::diagnostic::Diagnostics;
use crate::hours::{
    BusinessHours, Closure, LocalName, Opening, parse_clock_range, parse_day_set, parse_duration,
};
use crate::rules::Channel;

/// The time zone when the rule set names none.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

/// The dialogue policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// When a person is there to answer.
    pub hours: BusinessHours,
    /// When to hand off.
    pub escalation: EscalationSettings,
    /// What to do when nothing matches.
    pub fallback: FallbackSettings,
}

/// When the bot hands a conversation to a person.
#[derive(Debug, Clone, Copy)]
pub struct EscalationSettings {
    /// A message whose sentiment is at or below this is handed off.
    pub complaint: f64,
    /// A conversation whose frustration reaches this is handed off.
    pub frustration: f64,
    /// Ask an anonymous chat customer for an e-mail address once before
    /// handing off (when the rule set extracts an `email` detail).
    pub ask_email: bool,
    /// The promised response time in open hours: chat, e-mail.
    pub response_time: [SignedDuration; 2],
}

impl EscalationSettings {
    /// The promised response time on `channel`.
    #[must_use]
    pub fn response_time(&self, channel: Channel) -> SignedDuration {
        self.response_time[channel as usize]
    }
}

impl Default for EscalationSettings {
    fn default() -> Self {
        EscalationSettings {
            complaint: -0.65,
            frustration: -0.9,
            ask_email: true,
            response_time: [SignedDuration::from_hours(1), SignedDuration::from_hours(8)],
        }
    }
}

/// What the bot does when nothing matches.
#[derive(Debug, Clone, Default)]
pub struct FallbackSettings {
    /// After this many fallbacks in a row the conversation is handed off.
    pub escalate_after: u32,
    /// Intents offered as quick replies.
    pub topics: Vec<IntentIndex>,
}

/// The policy blocks as declared, before intent ids can be resolved.
pub(crate) struct PolicySpecs<'a> {
    pub policy: Policy,
    /// The fallback topics as written, with their file.
    pub topics: Option<(&'a ParsedFile, &'a super::schema::Words)>,
}

pub(crate) fn collect<'a>(files: &'a [ParsedFile], d: &mut Diagnostics) -> PolicySpecs<'a> {
    let hours = single(files, "hours", d, |f| f.rules.hours.as_ref())
        .map_or_else(default_hours, |(file, spec)| hours(file, spec, d));
    let escalation = single(files, "escalation", d, |f| f.rules.escalation.as_ref())
        .map(|(file, spec)| escalation(file, spec, d))
        .unwrap_or_default();
    let fallback_spec = single(files, "fallback", d, |f| f.rules.fallback.as_ref());
    let escalate_after = fallback_spec
        .and_then(|(file, spec)| escalate_after(file, spec, d))
        .unwrap_or(2);
    PolicySpecs {
        policy: Policy {
            hours,
            escalation,
            fallback: FallbackSettings {
                escalate_after,
                topics: Vec::new(),
            },
        },
        topics: fallback_spec.and_then(|(file, spec)| Some((file, spec.value.topics.as_ref()?))),
    }
}

fn default_hours() -> BusinessHours {
    BusinessHours::always_open(tokyo())
}

fn tokyo() -> TimeZone {
    // The bundled time zone database always has Asia/Tokyo.
    TimeZone::get(DEFAULT_TIME_ZONE).unwrap_or(TimeZone::UTC)
}

fn hours(file: &ParsedFile, spec: &Spanned<HoursSpec>, d: &mut Diagnostics) -> BusinessHours {
    let spec = &spec.value;
    let time_zone = match &spec.timezone {
        None => tokyo(),
        Some(name) => TimeZone::get(&name.value).unwrap_or_else(|_| {
            d.error(
                file.at_value(name),
                format!(
                    "unknown time zone `{}`: use an IANA name such as `Asia/Tokyo`",
                    name.value
                ),
            );
            tokyo()
        }),
    };
    let japanese_holidays = match spec.holidays.as_ref().map(|h| (h, h.value.as_str())) {
        None | Some((_, "none")) => false,
        Some((_, "jp")) => true,
        Some((h, other)) => {
            d.error(
                file.at_value(h),
                format!("unknown holiday calendar `{other}`: use `jp` (Japan's public holidays) or `none`"),
            );
            false
        }
    };
    let closures = spec
        .closed
        .iter()
        .flat_map(|list| &list.value)
        .filter_map(|c| closure(file, c, d))
        .collect();
    let Some(open) = &spec.open else {
        return BusinessHours::always_open(time_zone);
    };
    let mut weekly: [Vec<Opening>; 7] = Default::default();
    let mut declared = [false; 7];
    for (days, openings) in &open.value {
        let days = match parse_day_set(days) {
            Ok(days) => days,
            Err(err) => {
                d.error(file.at_value(openings), err.to_string());
                continue;
            }
        };
        let openings_value = match parse_clock_range(&openings.value) {
            Ok(o) => o,
            Err(err) => {
                d.error(file.at_value(openings), err.to_string());
                continue;
            }
        };
        for (n, _) in days.iter().enumerate().filter(|(_, on)| **on) {
            if declared[n] {
                d.error(
                    file.at_value(openings),
                    format!(
                        "{} is given opening times twice",
                        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][n]
                    ),
                );
            }
            declared[n] = true;
            weekly[n].clone_from(&openings_value);
        }
    }
    BusinessHours::weekly(time_zone, weekly, japanese_holidays, closures)
}

fn closure(file: &ParsedFile, spec: &Spanned<ClosureSpec>, d: &mut Diagnostics) -> Option<Closure> {
    let name = spec
        .value
        .name
        .as_ref()
        .map(|n| LocalName {
            ja: n.ja.clone(),
            en: n.en.clone(),
        })
        .unwrap_or_default();
    let from = day(&spec.value.from.value);
    let to = spec.value.to.as_ref().map_or(from, |to| day(&to.value));
    match (from, to) {
        (Some(Day::Dated(from)), Some(Day::Dated(to))) if from <= to => {
            Some(Closure::Dated { from, to, name })
        }
        (Some(Day::Yearly(from)), Some(Day::Yearly(to))) => {
            Some(Closure::Yearly { from, to, name })
        }
        (Some(Day::Dated(_)), Some(Day::Dated(_))) => {
            d.error(
                file.at_value(spec),
                "a closure's `to` must not be before its `from`",
            );
            None
        }
        (Some(_), Some(_)) => {
            d.error(
                file.at_value(spec),
                "a closure's `from` and `to` must both be dates (`2026-08-13`) or both month-days for every year (`12-29`)",
            );
            None
        }
        (None, _) => {
            d.error(
                file.at_value(&spec.value.from),
                format!(
                    "`{}` is not a date: use `YYYY-MM-DD`, or `MM-DD` for every year",
                    spec.value.from.value
                ),
            );
            None
        }
        (_, None) => {
            let to = spec.value.to.as_ref().unwrap_or(&spec.value.from);
            d.error(
                file.at_value(to),
                format!(
                    "`{}` is not a date: use `YYYY-MM-DD`, or `MM-DD` for every year",
                    to.value
                ),
            );
            None
        }
    }
}

#[derive(Clone, Copy)]
enum Day {
    Dated(Date),
    Yearly((i8, i8)),
}

fn day(text: &str) -> Option<Day> {
    if let Ok(date) = text.parse::<Date>() {
        return Some(Day::Dated(date));
    }
    let (month, day) = text.split_once('-')?;
    let (month, day): (i8, i8) = (month.parse().ok()?, day.parse().ok()?);
    // 2024 is a leap year, so 02-29 is a valid yearly day.
    Date::new(2024, month, day).ok()?;
    Some(Day::Yearly((month, day)))
}

fn escalation(
    file: &ParsedFile,
    spec: &Spanned<EscalationSpec>,
    d: &mut Diagnostics,
) -> EscalationSettings {
    let mut settings = EscalationSettings::default();
    let spec = &spec.value;
    for (value, target, key) in [
        (&spec.complaint, &mut settings.complaint, "complaint"),
        (&spec.frustration, &mut settings.frustration, "frustration"),
    ] {
        if let Some(v) = value {
            if v.value < 0.0 && v.value > -1.0 {
                *target = v.value;
            } else {
                d.error(
                    file.at_value(v),
                    format!(
                        "`{key}` must be a sentiment between -1 and 0 (exclusive), not {}",
                        v.value
                    ),
                );
            }
        }
    }
    if let Some(ask) = &spec.ask_email {
        settings.ask_email = ask.value;
    }
    if let Some(times) = &spec.response_time {
        for (value, channel) in [
            (&times.value.chat, Channel::Chat),
            (&times.value.email, Channel::Email),
        ] {
            let Some(value) = value else { continue };
            match parse_duration(&value.value) {
                Ok(duration) => settings.response_time[channel as usize] = duration,
                Err(err) => d.error(file.at_value(value), err.to_string()),
            }
        }
    }
    settings
}

fn escalate_after(
    file: &ParsedFile,
    spec: &Spanned<FallbackSpec>,
    d: &mut Diagnostics,
) -> Option<u32> {
    let value = spec.value.escalate_after.as_ref()?;
    match u32::try_from(value.value) {
        Ok(n) if (1..=20).contains(&n) => Some(n),
        _ => {
            d.error(
                file.at_value(value),
                format!(
                    "`escalate_after` must be from 1 to 20 fallbacks in a row, not {}",
                    value.value
                ),
            );
            None
        }
    }
}

/// Resolves the fallback topics to intents; an unknown id is an error.
pub(crate) fn resolve_topics(
    specs: &PolicySpecs<'_>,
    intent_index: impl Fn(&str) -> Option<IntentIndex>,
    d: &mut Diagnostics,
) -> Vec<IntentIndex> {
    let Some((file, topics)) = specs.topics else {
        return Vec::new();
    };
    topics
        .value
        .iter()
        .filter_map(|id| {
            let index = intent_index(&id.value);
            if index.is_none() {
                d.error(
                    file.at_value(id),
                    format!(
                        "fallback topic `{}` is not an intent of the rule set",
                        id.value
                    ),
                );
            }
            index
        })
        .collect()
}
