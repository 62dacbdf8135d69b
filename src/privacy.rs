//! Masking what must never be stored or logged: payment card numbers
//! (Luhn-valid runs of 13 to 19 digits) and My Number (個人番号: 12 digits
//! with a valid check digit), in any digits (ASCII, full-width or another
//! script's) and with whatever a person or an input method puts between
//! the groups (spaces of any width, hyphens, dashes and `ー`, dots,
//! slashes, zero-width characters).
//!
//! The service masks a customer's text before the engine sees it, so the
//! masked text is what is decided on, stored, logged and handed off.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What a masked number is replaced by (its last four digits are kept, as
/// receipts do, so that an agent can still tell two cards apart).
const MASK: char = '*';

/// What may stand between two digit groups of one number: any space
/// (`Zs`: NBSP, U+3000...), any dash (`Pd`: hyphen, en dash, 〜...), any
/// invisible format character (`Cf`: zero-width space, soft hyphen, bidi
/// marks...), tabs and line breaks, the minus sign, the long-vowel mark an
/// IME writes for `-` (`ー`, `ｰ`), dots, slashes and `・`, up to four in a
/// row (` - ` and a zero-width space).
const SEPARATORS: &str =
    r"[\p{Zs}\p{Pd}\p{Cf}\t\r\n./\u{2212}\u{30fb}\u{30fc}\u{ff0e}\u{ff0f}\u{ff70}]";

/// Runs of digits that may hold a card number or My Number: at least 12
/// digits, optionally grouped by [`SEPARATORS`]. Any script's decimal
/// digits are caught (`\d` is Unicode here). A run may hold more than the
/// number (a card number and its security code), so the groups are tried
/// in every span that starts and ends on a group's edge.
static CANDIDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\d(?:{SEPARATORS}{{0,4}}\d){{11,}}"))
        .unwrap_or_else(|e| panic!("valid regex: {e}"))
});

/// One decimal digit of any script.
static DIGIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\d$").unwrap_or_else(|e| panic!("valid regex: {e}")));

/// The text with card numbers and My Number masked; borrowed when there is
/// nothing to mask.
#[must_use]
pub fn mask(text: &str) -> Cow<'_, str> {
    if !text.contains(|c: char| digit(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    for found in CANDIDATE.find_iter(text) {
        for span in sensitive_spans(found.as_str()) {
            let (start, end) = (found.start() + span.start, found.start() + span.end);
            let buffer = out.get_or_insert_with(|| String::with_capacity(text.len()));
            buffer.push_str(&text[copied..start]);
            push_masked(buffer, &text[start..end]);
            copied = end;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buffer) => {
            buffer.push_str(&text[copied..]);
            Cow::Owned(buffer)
        }
    }
}

/// The byte spans of `run` that are a card number (the longest span of
/// whole digit groups, 13 to 19 digits, from each group on) or My Number
/// (twelve digits as one group or as three groups of four, or the whole
/// run: twelve digits by chance pass its check one time in eleven, so
/// other parts of a longer number are not taken for one). The work is
/// bounded by 19 digits from each group, however many groups the run has.
fn sensitive_spans(run: &str) -> Vec<std::ops::Range<usize>> {
    let groups = digit_groups(run);
    let mut spans = Vec::new();
    let mut first = 0;
    while first < groups.len() {
        match card_from(run, &groups, first).or_else(|| my_number_from(run, &groups, first)) {
            Some(last) => {
                spans.push(groups[first].0.start..groups[last].0.end);
                first = last + 1;
            }
            None => first += 1,
        }
    }
    spans
}

/// Each group of digits in `run`: its byte span and its digits.
fn digit_groups(run: &str) -> Vec<(std::ops::Range<usize>, Vec<u32>)> {
    let mut groups = Vec::new();
    let mut start = None;
    for (at, c) in run.char_indices().chain([(run.len(), ' ')]) {
        match (digit(c), start) {
            (Some(_), None) => start = Some(at),
            (None, Some(from)) => {
                let digits = run[from..at].chars().filter_map(digit).collect();
                groups.push((from..at, digits));
                start = None;
            }
            _ => {}
        }
    }
    groups
}

type Groups = [(std::ops::Range<usize>, Vec<u32>)];

/// The text between groups `i` and `i + 1`.
fn separator<'a>(run: &'a str, groups: &Groups, i: usize) -> &'a str {
    &run[groups[i].0.end..groups[i + 1].0.start]
}

/// Whether groups `first..=last` read as one number: the same separator
/// throughout, or single characters (`4111 1111-1111 1111`); a longer one
/// that differs (` / ` after `-`) is where one number ends and another
/// begins.
fn one_number(run: &str, groups: &Groups, first: usize, last: usize) -> bool {
    let seps: Vec<&str> = (first..last).map(|i| separator(run, groups, i)).collect();
    seps.iter().all(|s| s.chars().count() <= 1) || seps.windows(2).all(|w| w[0] == w[1])
}

/// The last group of the longest card number starting at group `first`.
fn card_from(run: &str, groups: &Groups, first: usize) -> Option<usize> {
    let mut digits: Vec<u32> = Vec::with_capacity(19);
    let mut longest = None;
    for (last, (_, group)) in groups.iter().enumerate().skip(first) {
        digits.extend(group);
        if digits.len() > 19 {
            break;
        }
        if is_card_number(&digits) && one_number(run, groups, first, last) {
            longest = Some(last);
        }
    }
    longest
}

/// The last group of a My Number starting at group `first`: the whole
/// run, one group of twelve, or three groups of four that end where the
/// number does (not followed by the same separator and more digits).
fn my_number_from(run: &str, groups: &Groups, first: usize) -> Option<usize> {
    let whole: Vec<u32> = groups.iter().flat_map(|(_, d)| d.iter().copied()).collect();
    if first == 0 && is_my_number(&whole) {
        return Some(groups.len() - 1);
    }
    if groups[first].1.len() == 12 && is_my_number(&groups[first].1) {
        return Some(first);
    }
    let fours = groups.get(first..first + 3)?;
    let last = first + 2;
    let ends_here = last + 1 == groups.len()
        || separator(run, groups, last) != separator(run, groups, last - 1);
    if fours.iter().all(|(_, d)| d.len() == 4) && one_number(run, groups, first, last) && ends_here
    {
        let digits: Vec<u32> = fours.iter().flat_map(|(_, d)| d.iter().copied()).collect();
        return is_my_number(&digits).then_some(last);
    }
    None
}

/// The value of a decimal digit of any script (`4`, `４`, `٤`, `४`...).
fn digit(c: char) -> Option<u32> {
    if let Some(d) = c.to_digit(10) {
        return Some(d);
    }
    if c.is_ascii() || !is_decimal_digit(c) {
        return None;
    }
    // Unicode encodes every script's digits as runs of ten, zero first:
    // the value is the distance from the start of the run, modulo ten.
    let mut zero = c as u32;
    while let Some(before) = zero.checked_sub(1).and_then(char::from_u32)
        && is_decimal_digit(before)
    {
        zero -= 1;
    }
    Some((c as u32 - zero) % 10)
}

fn is_decimal_digit(c: char) -> bool {
    // `is_numeric` (a table lookup) rules out nearly every character
    // before the regex is asked about the few numeric ones.
    let mut buffer = [0u8; 4];
    c.is_numeric() && DIGIT.is_match(c.encode_utf8(&mut buffer))
}

/// Masks every digit but the last four, keeping the separators.
fn push_masked(out: &mut String, number: &str) {
    let digits = number.chars().filter(|c| digit(*c).is_some()).count();
    let mut seen = 0;
    for c in number.chars() {
        if digit(c).is_some() {
            seen += 1;
            if seen + 4 > digits {
                out.push(c);
            } else {
                out.push(MASK);
            }
        } else {
            out.push(c);
        }
    }
}

/// A payment card number: 13 to 19 digits passing the Luhn check.
fn is_card_number(digits: &[u32]) -> bool {
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// My Number: 12 digits whose last is the check digit of the first eleven
/// (the formula of the 行政手続における特定の個人を識別するための番号の利用等に
/// 関する法律施行令, art. 8).
fn is_my_number(digits: &[u32]) -> bool {
    let [body @ .., check] = digits else {
        return false;
    };
    if digits.len() != 12 {
        return false;
    }
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(n, &p)| {
            let n = n as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            p * q
        })
        .sum();
    let remainder = sum % 11;
    let expected = if remainder <= 1 { 0 } else { 11 - remainder };
    *check == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_number_is_masked_but_its_last_four_digits() {
        assert_eq!(
            mask("カード番号は4111 1111 1111 1111です"),
            "カード番号は**** **** **** 1111です"
        );
        assert_eq!(
            mask("card 4111-1111-1111-1111."),
            "card ****-****-****-1111."
        );
        assert_eq!(mask("5555555555554444"), "************4444");
    }

    #[test]
    fn numbers_that_fail_the_check_are_left_alone() {
        // An order number, a phone number, a tracking number.
        for text in [
            "HM-12345678",
            "090-1234-5678",
            "1234-5678-9012",
            "4111 1111 1111 1112",
        ] {
            assert_eq!(mask(text), text);
        }
    }

    #[test]
    fn a_card_number_followed_by_its_security_code_is_still_masked() {
        assert_eq!(
            mask("4111 1111 1111 1111 123 です"),
            "**** **** **** 1111 123 です"
        );
        assert_eq!(mask("4111111111111111 0312"), "************1111 0312");
    }

    #[test]
    fn my_number_is_masked() {
        // 12345678901 has check digit 8.
        assert_eq!(
            mask("マイナンバーは123456789018です"),
            "マイナンバーは********9018です"
        );
        assert_eq!(mask("123456789012"), "123456789012");
    }

    #[test]
    fn full_width_digits_are_masked_too() {
        assert_eq!(
            mask("４１１１１１１１１１１１１１１１"),
            "************１１１１"
        );
    }

    #[test]
    fn numbers_typed_the_japanese_way_are_masked() {
        for (text, masked) in [
            (
                "４１１１－１１１１－１１１１－１１１１",
                "****－****－****－１１１１",
            ),
            (
                "4111\u{3000}1111\u{3000}1111\u{3000}1111",
                "****\u{3000}****\u{3000}****\u{3000}1111",
            ),
            ("4111.1111.1111.1111", "****.****.****.1111"),
            ("4111/1111/1111/1111", "****/****/****/1111"),
            ("4111\t1111\t1111\t1111", "****\t****\t****\t1111"),
            (
                "4111\u{a0}1111\u{a0}1111\u{a0}1111",
                "****\u{a0}****\u{a0}****\u{a0}1111",
            ),
            ("4111–1111–1111–1111", "****–****–****–1111"),
            ("4111ー1111ー1111ー1111", "****ー****ー****ー1111"),
            (
                "4111\u{200b}1111\u{200b}1111\u{200b}1111",
                "****\u{200b}****\u{200b}****\u{200b}1111",
            ),
            ("4111 - 1111 - 1111 - 1111", "**** - **** - **** - 1111"),
            (
                "マイナンバー １２３４－５６７８－９０１８",
                "マイナンバー ****－****－９０１８",
            ),
        ] {
            assert_eq!(mask(text), masked, "{text}");
        }
    }

    #[test]
    fn more_separators_and_my_number_beside_another_number_are_masked() {
        for (text, masked) in [
            (
                "4111\u{ad}1111\u{ad}1111\u{ad}1111",
                "****\u{ad}****\u{ad}****\u{ad}1111",
            ),
            (
                "4111\u{200e}1111\u{200e}1111\u{200e}1111",
                "****\u{200e}****\u{200e}****\u{200e}1111",
            ),
            ("4111\n1111\n1111\n1111", "****\n****\n****\n1111"),
            ("4111〜1111〜1111〜1111", "****〜****〜****〜1111"),
            ("4111・1111・1111・1111", "****・****・****・1111"),
            (
                "4111 - \u{200b}1111 - \u{200b}1111 - \u{200b}1111",
                "**** - \u{200b}**** - \u{200b}**** - \u{200b}1111",
            ),
            ("123456789018. 0312345678", "********9018. 0312345678"),
            (
                "1234-5678-9018 / 03-1234-5678",
                "****-****-9018 / 03-1234-5678",
            ),
        ] {
            assert_eq!(mask(text), masked, "{text}");
        }
    }

    #[test]
    fn a_long_run_of_short_groups_is_checked_in_bounded_work() {
        // Two thousand one-digit groups: the search from each group stops
        // after 19 digits, so this is as quick as any message.
        let text = "1 ".repeat(2_000);
        assert_eq!(mask(&text), text);
    }

    #[test]
    fn other_scripts_digits_are_read_by_their_value() {
        // Arabic-Indic and Devanagari 4111 1111 1111 1111.
        let arabic: String = "4111111111111111"
            .chars()
            .map(|c| char::from_u32(0x660 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
            .collect();
        assert_eq!(digit('٤'), Some(4));
        assert_eq!(digit('४'), Some(4));
        assert_eq!(digit('𝟗'), Some(9));
        assert_eq!(mask(&arabic).chars().filter(|&c| c == MASK).count(), 12);
    }

    #[test]
    fn text_without_numbers_is_borrowed() {
        assert!(matches!(mask("パスワードを忘れました"), Cow::Borrowed(_)));
    }
}
