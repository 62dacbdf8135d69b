//! A cheap test in front of the regex set: the bytes of which every match
//! contains at least one.
//!
//! The set's search reads the whole message even when nothing can match,
//! because it looks for every regex at once and overlapping. Most regexes
//! need some rare byte (`-` in `\d{4}-\d{4}`, a digit, `@`); when a message
//! has none of the bytes the regexes need, no regex can match and the search
//! is skipped. The bytes come from each regex's syntax tree, parsed with the
//! same flags as the set, so the test never skips a message a regex would
//! match.

use memchr::{memchr, memchr2, memchr3};
use regex_syntax::hir::{Class, Hir, HirKind};
use regex_syntax::utf8::Utf8Sequences;

/// A set of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ByteSet([bool; 256]);

impl Default for ByteSet {
    fn default() -> Self {
        ByteSet([false; 256])
    }
}

impl ByteSet {
    fn insert_range(&mut self, start: u8, end: u8) {
        for b in start..=end {
            self.0[usize::from(b)] = true;
        }
    }

    fn union(mut self, other: ByteSet) -> ByteSet {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            *mine |= theirs;
        }
        self
    }

    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=u8::MAX).filter(|&b| self.0[usize::from(b)])
    }

    /// How often a message is expected to hold one of these bytes: letters,
    /// spaces and the bytes of Japanese text are everywhere, digits and
    /// punctuation are rare. Only guides which requirement to keep.
    fn commonness(&self) -> u32 {
        self.bytes().map(commonness).sum()
    }
}

fn commonness(b: u8) -> u32 {
    match b {
        b'a'..=b'z' | b' ' => COMMON,
        0x80..=0xFF => 2 * COMMON,
        b'0'..=b'9' => 2,
        _ => 1,
    }
}

/// A byte at least this common makes the test pass on most messages, so it
/// would cost a scan and rarely spare the search.
const COMMON: u32 = 8;

/// What the set needs: `None` when some regex may match without any byte of
/// a small set (the test is then always passed).
#[derive(Debug, Clone)]
pub(crate) struct RegexGate {
    needed: Option<Needles>,
}

#[derive(Debug, Clone)]
enum Needles {
    One(u8),
    Two(u8, u8),
    Three(u8, u8, u8),
    Many(Box<ByteSet>),
}

impl RegexGate {
    /// The gate for a set of regexes (as compiled into the set). Each is
    /// parsed again here; one that does not parse opens the gate.
    pub(crate) fn new<'a>(sources: impl IntoIterator<Item = &'a str>) -> RegexGate {
        let mut needed = ByteSet::default();
        for source in sources {
            let parsed = regex_syntax::ParserBuilder::new()
                .case_insensitive(true)
                .build()
                .parse(source);
            match parsed.ok().as_ref().and_then(required) {
                Some(bytes) => needed = needed.union(bytes),
                None => return RegexGate { needed: None },
            }
        }
        if needed.bytes().any(|b| commonness(b) >= COMMON) {
            return RegexGate { needed: None };
        }
        let bytes: Vec<u8> = needed.bytes().collect();
        let needles = match bytes[..] {
            [a] => Needles::One(a),
            [a, b] => Needles::Two(a, b),
            [a, b, c] => Needles::Three(a, b, c),
            _ => Needles::Many(Box::new(needed)),
        };
        RegexGate {
            needed: Some(needles),
        }
    }

    /// Whether some regex of the set may match `text`.
    pub(crate) fn may_match(&self, text: &str) -> bool {
        let text = text.as_bytes();
        match &self.needed {
            None => true,
            Some(Needles::One(a)) => memchr(*a, text).is_some(),
            Some(Needles::Two(a, b)) => memchr2(*a, *b, text).is_some(),
            Some(Needles::Three(a, b, c)) => memchr3(*a, *b, *c, text).is_some(),
            Some(Needles::Many(set)) => text.iter().any(|&b| set.0[usize::from(b)]),
        }
    }
}

/// Bytes of which every match of `hir` contains one, if there is such a set
/// worth keeping; of several, the least common.
fn required(hir: &Hir) -> Option<ByteSet> {
    match hir.kind() {
        HirKind::Literal(literal) => literal.0.iter().min_by_key(|&&b| commonness(b)).map(|&b| {
            let mut set = ByteSet::default();
            set.insert_range(b, b);
            set
        }),
        HirKind::Class(class) => Some(first_bytes(class)),
        HirKind::Repetition(repetition) if repetition.min > 0 => required(&repetition.sub),
        // Zero-width, or possibly absent from the match.
        HirKind::Empty | HirKind::Look(_) | HirKind::Repetition(_) => None,
        HirKind::Capture(capture) => required(&capture.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .filter_map(required)
            .min_by_key(ByteSet::commonness),
        HirKind::Alternation(branches) => branches
            .iter()
            .map(required)
            .try_fold(ByteSet::default(), |all, branch| Some(all.union(branch?))),
    }
}

/// The bytes a character of `class` can start with (in UTF-8, for a
/// Unicode class).
fn first_bytes(class: &Class) -> ByteSet {
    let mut set = ByteSet::default();
    match class {
        Class::Unicode(unicode) => {
            for range in unicode.iter() {
                for sequence in Utf8Sequences::new(range.start(), range.end()) {
                    let first = sequence.as_slice()[0];
                    set.insert_range(first.start, first.end);
                }
            }
        }
        Class::Bytes(bytes) => {
            for range in bytes.iter() {
                set.insert_range(range.start(), range.end());
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::RegexGate;

    #[test]
    fn a_message_without_a_needed_byte_skips_the_set() {
        let gate = RegexGate::new([
            "(?-u:\\b)\\d{4}-\\d{4}(?-u:\\b)",
            "kaloden-(?P<code>\\d{3})",
        ]);
        assert!(!gate.may_match("ご注文の件について"));
        assert!(gate.may_match("order 1234-5678"));
    }

    #[test]
    fn a_regex_without_a_rare_byte_opens_the_gate() {
        let gate = RegexGate::new(["\\d{4}-\\d{4}", "^(hello|hi)$"]);
        assert!(gate.may_match("ご注文の件について"));
    }

    #[test]
    fn every_branch_of_an_alternation_counts() {
        let gate = RegexGate::new(["(a-b|c@d)"]);
        assert!(gate.may_match("x@y"));
        assert!(gate.may_match("x-y"));
        assert!(!gate.may_match("xy"));
    }

    #[test]
    fn an_optional_part_is_not_needed() {
        let gate = RegexGate::new(["-?\\d{3}"]);
        assert!(gate.may_match("123"));
    }

    #[test]
    fn case_folded_letters_count() {
        // `k` also matches the Kelvin sign, which the gate must allow.
        let gate = RegexGate::new(["(?-u:\\b)k\\d"]);
        assert!(gate.may_match("\u{212A}1"));
    }
}
