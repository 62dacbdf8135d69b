//! Business hours: when a person is there to answer, and so when a customer
//! handed to a person can expect to hear back.
//!
//! A [`BusinessHours`] is a weekly schedule in one time zone, minus closed
//! days: Japan's public holidays (a data table, `holidays/jp.yaml`), dated
//! closures (a stock-taking day) and closures that come back every year
//! (年末年始, 12-29 to 01-03). It never reads the clock: every question takes
//! the time as an argument, which is what keeps the dialogue engine pure.

mod spec;

pub use spec::{HoursError, parse_clock_range, parse_day_set, parse_duration};

use std::collections::BTreeMap;
use std::sync::LazyLock;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, ZonedDateTime};

use crate::text::Locale;

/// How far ahead the calendar looks for an opening: a shop closed for more
/// than a year is treated as never opening again.
const HORIZON_DAYS: i32 = 400;

/// A name in each locale (of a holiday or a closure).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalName {
    /// Japanese.
    pub ja: Option<String>,
    /// English.
    pub en: Option<String>,
}

impl LocalName {
    /// The name in `locale`, if it has one.
    #[must_use]
    pub fn get(&self, locale: Locale) -> Option<&str> {
        match locale {
            Locale::Ja => self.ja.as_deref(),
            Locale::En => self.en.as_deref(),
        }
    }
}

/// One opening on a day, in minutes after midnight (`end` may be 1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// When it opens.
    pub start: u16,
    /// When it closes (exclusive).
    pub end: u16,
}

/// Days on which the shop is closed although the weekly schedule says open.
#[derive(Debug, Clone)]
pub enum Closure {
    /// From one date to another, both included.
    Dated {
        /// The first closed day.
        from: Date,
        /// The last closed day.
        to: Date,
        /// What the closure is called.
        name: LocalName,
    },
    /// Every year from one month-day to another, both included; the range
    /// may wrap over the new year (12-29 to 01-03).
    Yearly {
        /// The first closed day, as (month, day).
        from: (i8, i8),
        /// The last closed day, as (month, day).
        to: (i8, i8),
        /// What the closure is called.
        name: LocalName,
    },
}

impl Closure {
    fn covers(&self, date: Date) -> bool {
        match self {
            Closure::Dated { from, to, .. } => *from <= date && date <= *to,
            Closure::Yearly { from, to, .. } => {
                let day = (date.month(), date.day());
                if from <= to {
                    *from <= day && day <= *to
                } else {
                    day >= *from || day <= *to
                }
            }
        }
    }

    fn name(&self) -> &LocalName {
        match self {
            Closure::Dated { name, .. } | Closure::Yearly { name, .. } => name,
        }
    }
}

/// Japan's public holidays, from the data table.
static JAPANESE_HOLIDAYS: LazyLock<BTreeMap<Date, LocalName>> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Names {
        ja: String,
        en: String,
    }
    let table: BTreeMap<String, Names> =
        serde_saphyr::from_str(include_str!("holidays/jp.yaml")).unwrap_or_default();
    table
        .into_iter()
        .filter_map(|(date, names)| {
            Some((
                date.parse().ok()?,
                LocalName {
                    ja: Some(names.ja),
                    en: Some(names.en),
                },
            ))
        })
        .collect()
});

/// The years the built-in holiday table covers.
#[must_use]
pub fn japanese_holiday_years() -> Option<(i16, i16)> {
    let first = JAPANESE_HOLIDAYS.keys().next()?.year();
    let last = JAPANESE_HOLIDAYS.keys().next_back()?.year();
    Some((first, last))
}

/// A weekly schedule in a time zone, with closed days.
#[derive(Debug, Clone)]
pub struct BusinessHours {
    time_zone: TimeZone,
    /// `None`: open around the clock, every day (no schedule declared).
    weekly: Option<[Vec<Opening>; 7]>,
    japanese_holidays: bool,
    closures: Vec<Closure>,
}

/// Whether someone is there at a given time, and if not, why and until when.
#[derive(Debug, Clone)]
pub struct Availability {
    /// Open at that time.
    pub open: bool,
    /// The holiday or closure of that day, when that is why it is closed.
    pub closed_for: Option<LocalName>,
    /// The next time it opens (the time itself when open); `None` when it
    /// never opens within a year.
    pub next_open: Option<ZonedDateTime>,
}

impl BusinessHours {
    /// Open around the clock, every day, in `time_zone`.
    #[must_use]
    pub fn always_open(time_zone: TimeZone) -> Self {
        BusinessHours {
            time_zone,
            weekly: None,
            japanese_holidays: false,
            closures: Vec::new(),
        }
    }

    /// A weekly schedule: openings per weekday, Monday first.
    #[must_use]
    pub fn weekly(
        time_zone: TimeZone,
        openings: [Vec<Opening>; 7],
        japanese_holidays: bool,
        closures: Vec<Closure>,
    ) -> Self {
        BusinessHours {
            time_zone,
            weekly: Some(openings),
            japanese_holidays,
            closures,
        }
    }

    /// The time zone of the schedule.
    #[must_use]
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// `now` in the schedule's time zone.
    #[must_use]
    pub fn local(&self, now: Timestamp) -> ZonedDateTime {
        now.to_zoned_datetime(self.time_zone.clone())
    }

    /// Why `date` is closed all day, if a holiday or closure says so.
    #[must_use]
    pub fn closed_for(&self, date: Date) -> Option<LocalName> {
        if let Some(closure) = self.closures.iter().find(|c| c.covers(date)) {
            return Some(closure.name().clone());
        }
        if self.japanese_holidays {
            return JAPANESE_HOLIDAYS.get(&date).cloned();
        }
        None
    }

    /// Whether someone is there at `now`, and when they next are.
    #[must_use]
    pub fn availability(&self, now: Timestamp) -> Availability {
        let next_open = self.next_open(now);
        let open = next_open.as_ref().is_some_and(|z| z.timestamp() == now);
        let closed_for = if open {
            None
        } else {
            self.closed_for(self.local(now).date())
        };
        Availability {
            open,
            closed_for,
            next_open,
        }
    }

    /// The first time at or after `now` when the shop is open.
    #[must_use]
    pub fn next_open(&self, now: Timestamp) -> Option<ZonedDateTime> {
        self.intervals_from(now).next().map(|(start, _)| start)
    }

    /// `now` plus `duration` of open time: an hour asked for at 17:30 on a
    /// Friday with 10:00–18:00 on weekdays ends at 10:30 on Monday.
    #[must_use]
    pub fn add_open_time(&self, now: Timestamp, duration: SignedDuration) -> Option<ZonedDateTime> {
        let mut remaining = duration;
        for (start, end) in self.intervals_from(now) {
            let available = start.duration_until(&end);
            if remaining <= available {
                return start.checked_add(remaining).ok();
            }
            remaining -= available;
        }
        None
    }

    /// The open intervals that end after `now`, in order, each starting no
    /// earlier than `now`.
    fn intervals_from(
        &self,
        now: Timestamp,
    ) -> impl Iterator<Item = (ZonedDateTime, ZonedDateTime)> + '_ {
        let local = self.local(now);
        let first = local.date();
        (0..HORIZON_DAYS)
            .filter_map(move |n| first.checked_add(n.days()).ok())
            .filter(|date| self.closed_for(*date).is_none())
            .flat_map(move |date| self.openings_on(date))
            .filter(move |(_, end)| end.timestamp() > now)
            .map(move |(start, end)| {
                if start.timestamp() < now {
                    (local.clone(), end)
                } else {
                    (start, end)
                }
            })
    }

    fn openings_on(&self, date: Date) -> Vec<(ZonedDateTime, ZonedDateTime)> {
        let whole_day = [Opening {
            start: 0,
            end: 1440,
        }];
        let openings: &[Opening] = match &self.weekly {
            None => &whole_day,
            Some(weekly) => &weekly[weekday_index(date.weekday())],
        };
        openings
            .iter()
            .filter_map(|o| Some((self.at_minute(date, o.start)?, self.at_minute(date, o.end)?)))
            .collect()
    }

    fn at_minute(&self, date: Date, minute: u16) -> Option<ZonedDateTime> {
        let midnight = date.to_zoned_datetime(self.time_zone.clone()).ok()?;
        midnight.checked_add(i64::from(minute).minutes()).ok()
    }
}

/// Monday is 0.
fn weekday_index(weekday: Weekday) -> usize {
    weekday.to_monday_zero_offset() as usize
}

#[cfg(test)]
mod tests;
