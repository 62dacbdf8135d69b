//! Reading the text forms of a schedule: day sets (`mon-fri`), opening
//! times (`10:00-18:00`, `closed`), durations (`1h30m`) and dates.

use jiff::SignedDuration;

use super::Opening;

/// A value of the `hours:` or `escalation:` block that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoursError {
    /// Not a day, a range of days or a list of them.
    #[error(
        "`{0}` is not a set of days: use mon, tue, wed, thu, fri, sat, sun, ranges (`mon-fri`), lists (`mon,wed`) or `every day`"
    )]
    Days(String),
    /// Not a list of opening times.
    #[error(
        "`{0}` is not a list of opening times: use `10:00-18:00`, several separated by commas (`10:00-12:00, 13:00-18:00`), or `closed`"
    )]
    Openings(String),
    /// An opening that closes before it opens, or overlaps another.
    #[error("in `{0}`, each opening must close after it opens and after the one before it")]
    Order(String),
    /// Not a duration.
    #[error(
        "`{0}` is not a duration: use hours, minutes and seconds such as `30m`, `2h`, `1h30m` or `5s`"
    )]
    Duration(String),
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Reads a set of weekdays (Monday = 0): `mon-fri`, `sat,sun`, `every day`.
///
/// # Errors
/// [`HoursError::Days`] when the text names no days.
pub fn parse_day_set(text: &str) -> Result<[bool; 7], HoursError> {
    let error = || HoursError::Days(text.to_owned());
    let mut days = [false; 7];
    let lower = text.trim().to_ascii_lowercase();
    if matches!(lower.as_str(), "every day" | "daily" | "mon-sun") {
        return Ok([true; 7]);
    }
    for part in lower.split(',').map(str::trim) {
        let day = |name: &str| DAYS.iter().position(|d| *d == name.trim());
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from).ok_or_else(error)?, day(to).ok_or_else(error)?);
                // A range may wrap over the week's end: `fri-mon`.
                let mut n = from;
                loop {
                    days[n] = true;
                    if n == to {
                        break;
                    }
                    n = (n + 1) % 7;
                }
            }
            None => days[day(part).ok_or_else(error)?] = true,
        }
    }
    Ok(days)
}

/// Reads the openings of a day: `10:00-18:00`, `9:30-12:00, 13:00-17:30`,
/// `00:00-24:00`, or `closed`.
///
/// # Errors
/// [`HoursError`] when a time cannot be read or the openings are out of
/// order.
pub fn parse_clock_range(text: &str) -> Result<Vec<Opening>, HoursError> {
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("closed") {
        return Ok(Vec::new());
    }
    let mut openings = Vec::new();
    for part in trimmed.split(',') {
        let (start, end) = part
            .split_once('-')
            .ok_or_else(|| HoursError::Openings(text.to_owned()))?;
        let start = clock(start).ok_or_else(|| HoursError::Openings(text.to_owned()))?;
        let end = clock(end).ok_or_else(|| HoursError::Openings(text.to_owned()))?;
        let after_previous = openings.last().is_none_or(|o: &Opening| o.end <= start);
        if end <= start || !after_previous {
            return Err(HoursError::Order(text.to_owned()));
        }
        openings.push(Opening { start, end });
    }
    Ok(openings)
}

/// `HH:MM` as minutes after midnight, up to `24:00`.
fn clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    let total = hours.checked_mul(60)?.checked_add(minutes)?;
    (minutes < 60 && total <= 24 * 60).then_some(total)
}

/// Reads a duration in hours, minutes and seconds: `30m`, `2h`, `1h30m`,
/// `5s`.
///
/// # Errors
/// [`HoursError::Duration`] when the text is not one.
pub fn parse_duration(text: &str) -> Result<SignedDuration, HoursError> {
    let error = || HoursError::Duration(text.to_owned());
    let mut seconds: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 's' if !number.is_empty() => {
                let n: i64 = number.parse().map_err(|_| error())?;
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                seconds = n
                    .checked_mul(unit)
                    .and_then(|s| seconds.checked_add(s))
                    .ok_or_else(error)?;
                number.clear();
                any = true;
            }
            _ => return Err(error()),
        }
    }
    if !number.is_empty() || !any {
        return Err(error());
    }
    Ok(SignedDuration::from_secs(seconds))
}
