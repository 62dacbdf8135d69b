//! Reading a rule set from disk: one file or a folder of `.yaml` files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_saphyr::{Location, Spanned};

use super::schema::RuleFile;
use super::split;
use crate::diagnostic::{Diagnostic, SourceLocation};

/// One parsed rule file with its path.
#[derive(Debug)]
pub(crate) struct ParsedFile {
    pub path: Arc<str>,
    pub rules: RuleFile,
    /// SHA-256 of the file's text: what the rule set's version is made of.
    pub digest: [u8; 32],
    /// The text, kept so that the rule set can be compiled again with an
    /// addition tried in memory (rule suggestions).
    pub text: Arc<str>,
}

impl ParsedFile {
    /// The position of a YAML node in this file.
    pub fn at(&self, location: &Location) -> SourceLocation {
        at(&self.path, location)
    }

    /// The position of a spanned value in this file.
    pub fn at_value<T>(&self, spanned: &Spanned<T>) -> SourceLocation {
        self.at(&spanned.referenced)
    }
}

pub(crate) fn at(path: &Arc<str>, location: &Location) -> SourceLocation {
    SourceLocation::new(path, location.line(), location.column())
}

/// The built-in rules every rule set starts from (the "I want a human"
/// intent, the dialogue's replies); a rule set overrides an intent by
/// declaring one with its id, and a reply by declaring one with its name.
const BUILTIN: &[(&str, &str)] = &[
    ("<builtin>/human.yaml", include_str!("builtin/human.yaml")),
    (
        "<builtin>/replies.yaml",
        include_str!("builtin/replies.yaml"),
    ),
];

/// Reads and parses every rule file under `root` (a file, or a folder read
/// recursively in name order). Parse errors of all files are returned
/// together.
pub(crate) fn read_rule_files(root: &Path) -> Result<Vec<ParsedFile>, Vec<Diagnostic>> {
    let paths = yaml_paths(root, "rules").map_err(|d| vec![d])?;
    let mut files = Vec::with_capacity(paths.len());
    let mut problems = Vec::new();
    for path in paths {
        let display: Arc<str> = path.display().to_string().into();
        match read_yaml_file(&path) {
            Ok(text) => match parse(&display, &text) {
                Ok(file) => files.push(file),
                Err(diagnostic) => problems.push(diagnostic),
            },
            Err(err) => problems.push(Diagnostic::error(
                SourceLocation::new(&display, 1, 1),
                format!("cannot read rule file: {err}"),
            )),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// The built-in rule files, parsed.
pub(crate) fn builtin_rule_files() -> Vec<ParsedFile> {
    BUILTIN
        .iter()
        .map(|(path, text)| {
            // The built-in files are part of the crate and tested; a failure
            // here is a bug in the binary, not in the user's rules.
            parse(&Arc::from(*path), text)
                .unwrap_or_else(|d| panic!("built-in rules are invalid: {d}"))
        })
        .collect()
}

/// Parses one rule file from text; a large one in pieces on every core
/// when it can be (see [`split`]), otherwise, and to report any problem, as
/// a whole.
pub(crate) fn parse(path: &Arc<str>, text: &str) -> Result<ParsedFile, Diagnostic> {
    use sha2::Digest as _;
    let digest: [u8; 32] = sha2::Sha256::digest(text.as_bytes()).into();
    if let Some(rules) = split::parse_large(text, parse_yaml) {
        return Ok(ParsedFile {
            path: Arc::clone(path),
            rules,
            digest,
            text: Arc::from(text),
        });
    }
    match parse_yaml(text) {
        Ok(rules) => Ok(ParsedFile {
            path: Arc::clone(path),
            rules: rules.unwrap_or_default(),
            digest,
            text: Arc::from(text),
        }),
        Err(err) => Err(yaml_diagnostic(path, &err)),
    }
}

pub(crate) fn parse_yaml(text: &str) -> Result<Option<RuleFile>, serde_saphyr::Error> {
    serde_saphyr::from_str_with_options(text, yaml_options())
}

/// YAML options for rule files. The parser's default budgets protect a
/// service from hostile documents; rule files are written by the shop and a
/// 10,000-intent rule set needs far more nodes, so the budgets are raised
/// here deliberately (and still bound memory).
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        // Comments mean nothing to a rule set: the parser need not keep
        // them (nor limit how many it keeps while looking ahead).
        emit_comments: false,
        // `no`, `off` and `y` stay text: they are keywords, not booleans.
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_events: 50_000_000,
            max_nodes: 20_000_000,
            max_total_scalar_bytes: 512 * 1024 * 1024,
        },
    }
}

pub(crate) fn yaml_diagnostic(path: &Arc<str>, err: &serde_saphyr::Error) -> Diagnostic {
    let text = err.without_snippet().to_string();
    match err.location() {
        Some(location) => {
            // The parser appends the position in words; ours is in front.
            let suffix = format!(" at line {}, column {}", location.line(), location.column());
            let message = text.strip_suffix(&suffix).unwrap_or(&text);
            Diagnostic::error(at(path, &location), message.to_owned())
        }
        None => Diagnostic::error(SourceLocation::new(path, 1, 1), text),
    }
}

/// The largest YAML file read (a 10,000-intent rule set is a few MiB).
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a YAML file, refusing one over [`MAX_FILE_BYTES`]: a path to a
/// device or a pipe that never ends (`/dev/zero`) is an error, not a read
/// that fills the memory.
pub(crate) fn read_yaml_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read as _;
    // A device or a pipe is no rule file (and a pipe would block the read).
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    Ok(text)
}

/// The YAML files under `root` (a file, or a folder read recursively), in
/// name order; `what` names them in messages (`rules`, `conversation tests`).
pub(crate) fn yaml_paths(root: &Path, what: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    let root_display: Arc<str> = root.display().to_string().into();
    let cannot = |err: std::io::Error| {
        Diagnostic::error(
            SourceLocation::new(&root_display, 1, 1),
            format!("cannot read {what}: {err}"),
        )
    };
    let metadata = std::fs::metadata(root).map_err(cannot)?;
    if !metadata.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut paths = Vec::new();
    collect_yaml(root, &mut paths).map_err(cannot)?;
    if paths.is_empty() {
        return Err(Diagnostic::error(
            SourceLocation::new(&root_display, 1, 1),
            format!("no {what} (*.yaml, *.yml) in this folder"),
        ));
    }
    paths.sort();
    Ok(paths)
}

fn collect_yaml(dir: &Path, paths: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_yaml(&path, paths)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            paths.push(path);
        }
    }
    Ok(())
}
