//! Parsing the `intents:` list of a large rule file on every core.
//!
//! YAML parsing is most of the time it takes to load a rule file with
//! thousands of intents, and one document is parsed by one thread. The
//! intents of a block list `intents:` are independent of each other, so the
//! file is cut into pieces at the lines where a list item starts, and the
//! pieces are parsed side by side.
//!
//! Every piece is the whole file with the lines that belong to other pieces
//! turned into comments (their first character replaced by `#`): lines,
//! columns and offsets stay those of the file, so every position the parser
//! records is the one the whole file gives. The first piece keeps everything
//! outside the list and the first items; the others keep the `intents:` line
//! and their own items.
//!
//! Anything the cut cannot be sure about (anchors and aliases, several
//! documents, a list written otherwise) parses the file whole, and so does
//! any error in any piece: problems are always reported by the parse of the
//! whole file.

use rayon::prelude::*;

use super::schema::RuleFile;

/// Below this size a file parses quickly enough whole.
const MIN_SPLIT_BYTES: usize = 64 * 1024;

/// Above this size the file is parsed whole so that the parser's budgets
/// (events, nodes, scalar bytes) apply to it as one document: no YAML text
/// of this size comes near them.
const MAX_SPLIT_BYTES: usize = 32 * 1024 * 1024;

/// Parses a large `text` in pieces on every core with `parse`, or returns
/// `None` when it is small, there is one core, or it must be parsed whole.
pub(crate) fn parse_large<E>(
    text: &str,
    parse: impl Fn(&str) -> Result<Option<RuleFile>, E> + Sync,
) -> Option<RuleFile> {
    let cores = rayon::current_num_threads();
    if text.len() < MIN_SPLIT_BYTES || cores < 2 {
        return None;
    }
    // One piece per core: each piece also reads the lines before its own
    // as comments, so more pieces cost more than they even out.
    parse_in_pieces(text, cores, parse)
}

/// Parses `text` in `pieces` pieces side by side with `parse`, or returns
/// `None` when it must be parsed whole (see the module documentation).
pub(crate) fn parse_in_pieces<E>(
    text: &str,
    pieces: usize,
    parse: impl Fn(&str) -> Result<Option<RuleFile>, E> + Sync,
) -> Option<RuleFile> {
    if text.len() > MAX_SPLIT_BYTES || pieces < 2 || may_use_aliases(text) {
        return None;
    }
    let layout = Layout::find(text)?;
    let cuts = layout.cuts(pieces);
    if cuts.len() < 2 {
        return None;
    }
    let texts: Vec<String> = (0..cuts.len())
        .map(|n| layout.piece(text, &cuts, n))
        .collect::<Option<_>>()?;
    let parsed: Vec<RuleFile> = texts
        .par_iter()
        .map(|piece| parse(piece).ok().flatten())
        .collect::<Option<_>>()?;
    let mut parsed = parsed.into_iter();
    let mut file = parsed.next()?;
    for rest in parsed {
        file.intents.extend(rest.intents);
    }
    Some(file)
}

/// Whether the text may hold an anchor (`&name`) or an alias (`*name`): an
/// alias in one piece could refer to an anchor in another. Errs on the side
/// of yes; `cancel*` (a keyword with a trailing star) is not an alias.
fn may_use_aliases(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        (b == b'&' || b == b'*')
            && (i == 0
                || matches!(
                    bytes[i - 1],
                    b' ' | b'\t' | b'\r' | b'\n' | b'[' | b'{' | b',' | b':' | b'-' | b'?'
                ))
            && bytes
                .get(i + 1)
                .is_some_and(|&next| !next.is_ascii_whitespace())
    })
}

/// Where the `intents:` list is: line numbers are 0-based indices into
/// `lines`.
struct Layout {
    /// Each line's byte range, newline included.
    lines: Vec<(usize, usize)>,
    /// The `intents:` line.
    key: usize,
    /// The lines after it that belong to the list: `key + 1..end`.
    end: usize,
    /// The lines where a list item starts.
    items: Vec<usize>,
}

impl Layout {
    fn find(text: &str) -> Option<Layout> {
        let lines = line_ranges(text);
        let line = |n: usize| &text[lines[n].0..lines[n].1];
        let marker = |l: &str| l.starts_with("---") || l.starts_with("...") || l.starts_with('%');
        if (0..lines.len()).any(|n| marker(line(n))) {
            return None;
        }
        let key = (0..lines.len()).find(|&n| is_intents_key(line(n)))?;
        let mut end = lines.len();
        let mut indent = None;
        let mut items = Vec::new();
        for n in key + 1..lines.len() {
            let content = line(n).trim_end_matches(['\n', '\r']);
            let trimmed = content.trim_start_matches(' ');
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if trimmed.starts_with('\t') {
                return None;
            }
            let depth = content.len() - trimmed.len();
            let item = trimmed == "-" || trimmed.starts_with("- ");
            let indent = *indent.get_or_insert(depth);
            if depth == 0 && !item {
                end = n;
                break;
            }
            match (depth == indent, item) {
                (true, true) => items.push(n),
                // Something at the items' indentation that is not an item,
                // or less indented than the items: not a plain block list.
                (true, false) => return None,
                _ if depth < indent || items.is_empty() => return None,
                _ => {}
            }
        }
        // Trailing comments and blank lines stay with the last item.
        (!items.is_empty()).then_some(Layout {
            lines,
            key,
            end,
            items,
        })
    }

    /// The first line of each piece: items shared out evenly.
    fn cuts(&self, pieces: usize) -> Vec<usize> {
        let per_piece = self.items.len().div_ceil(pieces).max(1);
        self.items.iter().step_by(per_piece).copied().collect()
    }

    /// The text of piece `n`: the file up to the end of its items (the
    /// first piece: the whole file), with the lines of other pieces (and
    /// for all but the first, everything outside the list but the
    /// `intents:` line) commented out.
    fn piece(&self, text: &str, cuts: &[usize], n: usize) -> Option<String> {
        let first = cuts[n];
        let last = cuts.get(n + 1).copied().unwrap_or(self.end);
        let mut out = String::with_capacity(text.len());
        // Only the first piece needs what follows its items.
        let until = if n == 0 { self.lines.len() } else { last };
        for (line, &(start, end)) in self.lines.iter().enumerate().take(until) {
            let keep = line == self.key
                || (first..last).contains(&line)
                || (n == 0 && (line < self.key || line >= self.end));
            let text = &text[start..end];
            if keep {
                out.push_str(text);
            } else {
                push_commented(&mut out, text)?;
            }
        }
        Some(out)
    }
}

/// Appends a line turned into a comment of the same length in bytes and
/// characters; `None` when its first character is not ASCII.
fn push_commented(out: &mut String, line: &str) -> Option<()> {
    match line.as_bytes().first() {
        None | Some(b'\n') => out.push_str(line),
        Some(b) if b.is_ascii() => {
            out.push('#');
            out.push_str(&line[1..]);
        }
        Some(_) => return None,
    }
    Some(())
}

/// Whether a line is the top-level key of a block list of intents.
fn is_intents_key(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("intents:") else {
        return false;
    };
    let rest = rest.trim_end_matches(['\n', '\r']);
    rest.trim().is_empty() || (rest.starts_with([' ', '\t']) && rest.trim_start().starts_with('#'))
}

/// The byte range of every line, its newline included.
fn line_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            lines.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        lines.push((start, text.len()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    use crate::rules::source::parse_yaml;

    fn whole(text: &str) -> Option<RuleFile> {
        parse_yaml(text).ok().flatten()
    }

    fn pieces(text: &str, n: usize) -> Option<RuleFile> {
        parse_in_pieces(text, n, parse_yaml)
    }

    const RULES: &str = "\
locales: [ja, en]
shop:
  name: { ja: はなまる, en: Hanamaru }
intents:
  # the first
  - id: a
    match:
      any: [返品, cancel*]
    answer:
      ja: |
        返品です。
        - 二行目
      en: 'About a'

  - id: b
    match: { any: [b] }
    answer: { ja: b, en: b }
  - id: c
    match:
      en:
        any: [c]
    answer: { ja: c, en: c }
details:
  order: '\\d{4}'
";

    #[test]
    fn pieces_give_what_the_whole_file_gives() {
        let expected = format!("{:?}", whole(RULES).expect("valid"));
        for n in 2..=4 {
            let found = pieces(RULES, n).expect("the list can be cut");
            assert_eq!(format!("{found:?}"), expected, "{n} pieces");
        }
    }

    #[test]
    fn the_example_rules_parse_the_same_in_pieces() {
        let mut cut = 0;
        for path in super::super::yaml_paths(std::path::Path::new("rules"), "rules").expect("rules")
        {
            let text = std::fs::read_to_string(&path).expect("readable");
            if let Some(found) = pieces(&text, 3) {
                let expected = whole(&text).expect("valid");
                assert_eq!(
                    format!("{found:?}"),
                    format!("{expected:?}"),
                    "{}",
                    path.display()
                );
                cut += 1;
            }
        }
        assert!(cut > 0, "no example rule file was cut");
    }

    #[test]
    fn a_long_list_parses_the_same_in_pieces() {
        let mut text = String::from("locales: [ja, en]\nintents:\n");
        for n in 0..200 {
            let _ = write!(
                text,
                "  - id: intent_{n}\n    match:\n      ja:\n        any: [語{n}]\n      regex: ['w{n}-(?P<c{n}>\\d{{3}})']\n    answer:\n      ja: '{{{{ shop.name }}}}です。'\n      en: {{ chat: 'About {n}', email: \"Dear customer, {n}.\" }}\n"
            );
        }
        let expected = format!("{:?}", whole(&text).expect("valid"));
        for n in [2, 4, 7] {
            let found = pieces(&text, n).expect("the list can be cut");
            assert_eq!(format!("{found:?}"), expected, "{n} pieces");
        }
    }

    #[test]
    fn what_cannot_be_cut_safely_is_parsed_whole() {
        let anchored = RULES.replace("any: [b]", "any: &words [b]");
        assert!(pieces(&anchored, 2).is_none());
        let documents = format!("---\n{RULES}");
        assert!(pieces(&documents, 2).is_none());
        let flow = "intents: [{ id: a }, { id: b }]\n";
        assert!(pieces(flow, 2).is_none());
        let odd = RULES.replace("  - id: b", " - id: b");
        assert!(pieces(&odd, 2).is_none());
    }

    #[test]
    fn an_error_in_a_piece_leaves_it_to_the_whole_file() {
        let broken = RULES.replace("any: [b]", "any: [b");
        assert!(pieces(&broken, 3).is_none());
    }
}
