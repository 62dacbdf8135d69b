use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::*;

fn tokyo() -> TimeZone {
    TimeZone::get("Asia/Tokyo").expect("the bundled tz database has Asia/Tokyo")
}

/// Weekdays 10:00–18:00 in Tokyo, Japan's holidays, and 12-29..01-03 every
/// year.
fn shop() -> BusinessHours {
    let weekday = parse_clock_range("10:00-18:00").expect("valid");
    let mut weekly: [Vec<Opening>; 7] = Default::default();
    for (day, open) in weekly
        .iter_mut()
        .zip(parse_day_set("mon-fri").expect("valid"))
    {
        if open {
            day.clone_from(&weekday);
        }
    }
    let new_year = Closure::Yearly {
        from: (12, 29),
        to: (1, 3),
        name: LocalName {
            ja: Some("年末年始休業".into()),
            en: Some("the New Year holidays".into()),
        },
    };
    BusinessHours::weekly(tokyo(), weekly, true, vec![new_year])
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a valid timestamp")
}

fn local(z: &ZonedDateTime) -> String {
    z.strftime("%Y-%m-%d %H:%M").to_string()
}

#[test]
fn a_weekday_afternoon_is_open() {
    let availability = shop().availability(at("2026-12-01T14:00:00+09:00"));
    assert!(availability.open);
    assert!(availability.closed_for.is_none());
}

#[test]
fn after_closing_the_next_opening_is_the_next_morning() {
    let availability = shop().availability(at("2026-12-01T19:30:00+09:00"));
    assert!(!availability.open);
    let next = availability.next_open.expect("opens again");
    assert_eq!(local(&next), "2026-12-02 10:00");
}

#[test]
fn friday_evening_opens_again_on_monday() {
    let next = shop()
        .next_open(at("2026-12-04T18:00:00+09:00"))
        .expect("opens");
    assert_eq!(local(&next), "2026-12-07 10:00");
}

#[test]
fn a_public_holiday_is_closed_and_named() {
    // 2026-11-23 (Monday) is 勤労感謝の日.
    let availability = shop().availability(at("2026-11-23T11:00:00+09:00"));
    assert!(!availability.open);
    let name = availability.closed_for.expect("a holiday");
    assert_eq!(name.get(Locale::Ja), Some("勤労感謝の日"));
    assert_eq!(
        local(&availability.next_open.expect("opens")),
        "2026-11-24 10:00"
    );
}

#[test]
fn the_new_year_closure_wraps_over_the_year_end() {
    let availability = shop().availability(at("2026-12-30T11:00:00+09:00"));
    assert!(!availability.open);
    assert_eq!(
        availability.closed_for.expect("closed").get(Locale::Ja),
        Some("年末年始休業")
    );
    // 01-04 is a Monday and no holiday in 2027.
    assert_eq!(
        local(&availability.next_open.expect("opens")),
        "2027-01-04 10:00"
    );
}

#[test]
fn open_time_is_added_across_closed_hours() {
    let hours = shop();
    let by = hours
        .add_open_time(
            at("2026-12-04T17:30:00+09:00"),
            SignedDuration::from_hours(1),
        )
        .expect("reachable");
    assert_eq!(local(&by), "2026-12-07 10:30");
    let within = hours
        .add_open_time(
            at("2026-12-01T11:00:00+09:00"),
            SignedDuration::from_mins(90),
        )
        .expect("reachable");
    assert_eq!(local(&within), "2026-12-01 12:30");
}

#[test]
fn without_a_schedule_it_is_always_open() {
    let hours = BusinessHours::always_open(tokyo());
    let now = at("2026-12-31T03:00:00+09:00");
    assert!(hours.availability(now).open);
    let by = hours
        .add_open_time(now, SignedDuration::from_hours(2))
        .expect("reachable");
    assert_eq!(local(&by), "2026-12-31 05:00");
}

#[test]
fn a_shop_that_never_opens_has_no_next_opening() {
    let hours = BusinessHours::weekly(tokyo(), Default::default(), false, Vec::new());
    assert!(hours.next_open(at("2026-12-01T10:00:00+09:00")).is_none());
}

#[test]
fn day_sets_read_ranges_lists_and_wrapping_ranges() {
    assert_eq!(
        parse_day_set("mon-fri"),
        Ok([true, true, true, true, true, false, false])
    );
    assert_eq!(
        parse_day_set("sat, sun"),
        Ok([false, false, false, false, false, true, true])
    );
    assert_eq!(
        parse_day_set("fri-mon"),
        Ok([true, false, false, false, true, true, true])
    );
    assert!(matches!(
        parse_day_set("weekdays"),
        Err(HoursError::Days(_))
    ));
}

#[test]
fn openings_are_read_and_checked_for_order() {
    assert_eq!(
        parse_clock_range("9:30-12:00, 13:00-24:00"),
        Ok(vec![
            Opening {
                start: 570,
                end: 720
            },
            Opening {
                start: 780,
                end: 1440
            }
        ])
    );
    assert_eq!(parse_clock_range("closed"), Ok(Vec::new()));
    assert!(matches!(
        parse_clock_range("18:00-10:00"),
        Err(HoursError::Order(_))
    ));
    assert!(matches!(
        parse_clock_range("10-18"),
        Err(HoursError::Openings(_))
    ));
    assert!(parse_clock_range("1093:00-1100:00").is_err(), "no overflow");
}

#[test]
fn durations_are_hours_and_minutes() {
    assert_eq!(parse_duration("1h30m"), Ok(SignedDuration::from_mins(90)));
    assert_eq!(parse_duration("45m"), Ok(SignedDuration::from_mins(45)));
    assert_eq!(parse_duration("5s"), Ok(SignedDuration::from_secs(5)));
    assert!(parse_duration("1d").is_err());
    assert!(parse_duration("h").is_err());
    assert!(parse_duration("99999999999999999h").is_err(), "no overflow");
}

#[test]
fn the_holiday_table_covers_the_coming_years() {
    let (first, last) = japanese_holiday_years().expect("the table is not empty");
    assert!(first <= 2026 && last >= 2030, "{first}..{last}");
}
