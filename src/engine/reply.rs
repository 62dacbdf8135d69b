//! Writing the dialogue's replies: the rule set's templates, with the
//! values the dialogue knows (the trouble, when a person will answer).

use std::collections::BTreeMap;

use jiff::{Timestamp, ZonedDateTime};
use minijinja::Value;
use serde::Serialize;

use crate::rules::{Channel, ReplyName, RuleSet};
use crate::text::Locale;

/// What the bot says back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The text.
    pub text: String,
    /// Buttons the customer can tap instead of typing.
    pub quick_replies: Vec<QuickReply>,
}

/// A button under a reply; tapping it sends its label as the customer's
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct QuickReply {
    /// What the button says (and sends).
    pub label: String,
    /// The intent it stands for, if any (none for "neither").
    pub intent: Option<String>,
}

/// Renders replies for one message: its locale, channel, time and details.
pub(crate) struct Writer<'a> {
    pub rules: &'a RuleSet,
    pub locale: Locale,
    pub channel: Channel,
    pub now: Timestamp,
    pub details: &'a BTreeMap<String, String>,
}

impl Writer<'_> {
    /// Renders reply `name`; a template that fails at run time (which
    /// `check` makes unlikely) gives an empty text rather than no reply.
    pub fn reply(&self, name: ReplyName, variant: usize, extra: Value) -> String {
        self.rules
            .render_reply(
                name,
                self.locale,
                self.channel,
                variant,
                self.details,
                extra,
            )
            .unwrap_or_default()
    }

    /// The question for detail `detail` (`ask_order_number`).
    pub fn question(&self, detail: &str) -> String {
        self.rules
            .render_question(detail, self.locale, self.channel, self.details)
            .unwrap_or_default()
    }

    /// The apology naming `trouble`.
    pub fn apology(&self, trouble: Option<&str>) -> String {
        self.reply(
            ReplyName::Apology,
            0,
            minijinja::context! { trouble => trouble },
        )
    }

    /// Who will answer, and by when: the `follow_up` reply, with the
    /// values it was written from.
    pub fn follow_up(&self) -> (String, Value) {
        let policy = self.rules.policy();
        let availability = policy.hours.availability(self.now);
        let by = policy
            .hours
            .add_open_time(self.now, policy.escalation.response_time(self.channel))
            .map(|at| when(&at, &policy.hours.local(self.now), self.locale));
        let by = by.unwrap_or_else(|| match self.locale {
            Locale::Ja => "営業再開後".to_owned(),
            Locale::En => "when we reopen".to_owned(),
        });
        let closed_for = availability
            .closed_for
            .as_ref()
            .and_then(|n| n.get(self.locale))
            .map(str::to_owned);
        let values = minijinja::context! {
            open => availability.open,
            by => by,
            closed_for => closed_for,
        };
        let text = self.reply(ReplyName::FollowUp, 0, values.clone());
        (text, values)
    }
}

const JA_WEEKDAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

/// A time as a customer reads it, relative to `now`, in the rule set's time
/// zone and saying so (the customer may be elsewhere): `本日15:30（JST）`,
/// `明日12月2日（水）10:30（JST）`, `1月5日（月）10:00（JST）`; `15:30 JST
/// today`, `10:30 JST tomorrow (Wed 2 Dec)`, `10:00 JST on Mon 5 Jan`.
pub(crate) fn when(at: &ZonedDateTime, now: &ZonedDateTime, locale: Locale) -> String {
    let days = (at.date() - now.date()).get_days();
    let clock = match locale {
        Locale::Ja => at.strftime("%H:%M（%Z）").to_string(),
        Locale::En => at.strftime("%H:%M %Z").to_string(),
    };
    match locale {
        Locale::Ja => {
            let date = format!(
                "{}月{}日（{}）",
                at.month(),
                at.day(),
                JA_WEEKDAYS[at.weekday().to_monday_zero_offset() as usize]
            );
            match days {
                0 => format!("本日{clock}"),
                1 => format!("明日{date}{clock}"),
                _ => format!("{date}{clock}"),
            }
        }
        Locale::En => {
            let date = at.strftime("%a %-d %b");
            match days {
                0 => format!("{clock} today"),
                1 => format!("{clock} tomorrow ({date})"),
                _ => format!("{clock} on {date}"),
            }
        }
    }
}
