//! Problems found in a rule set or a conversation test file, each pointing
//! at a place in a file.

use std::fmt;
use std::sync::Arc;

/// A place in a rule file: `path:line:column`, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The file, as given to the loader (relative paths stay relative).
    pub path: Arc<str>,
    /// Line, counting from 1.
    pub line: u64,
    /// Column in characters, counting from 1.
    pub column: u64,
}

impl SourceLocation {
    pub(crate) fn new(path: &Arc<str>, line: u64, column: u64) -> Self {
        SourceLocation {
            path: Arc::clone(path),
            line: line.max(1),
            column: column.max(1),
        }
    }

    /// The same file, `lines` further down, at column `column`.
    pub(crate) fn down(&self, lines: u64, column: u64) -> Self {
        SourceLocation {
            path: Arc::clone(&self.path),
            line: self.line + lines,
            column: column.max(1),
        }
    }
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

/// How bad a problem is: errors reject the rule set, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The rule set cannot be used.
    Error,
    /// The rule set works, but probably not as its author meant.
    Warning,
}

/// One problem in a rule set, printed as `path:line:column: message` (with
/// `warning: ` before the message for warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where the problem is.
    pub location: SourceLocation,
    /// What is wrong, and where useful, what to do about it.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn error(location: SourceLocation, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            location,
            message: message.into(),
        }
    }

    pub(crate) fn warning(location: SourceLocation, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "{}: {}", self.location, self.message),
            Severity::Warning => write!(f, "{}: warning: {}", self.location, self.message),
        }
    }
}

/// A rule set that could not be loaded, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("{}", display_all(.diagnostics))]
pub struct LoadError {
    /// Every error (and any warnings found on the way), in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

fn display_all(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects diagnostics while a rule set is checked, so that one run reports
/// every problem rather than the first.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn error(&mut self, location: SourceLocation, message: impl Into<String>) {
        self.items.push(Diagnostic::error(location, message));
    }

    pub fn warning(&mut self, location: SourceLocation, message: impl Into<String>) {
        self.items.push(Diagnostic::warning(location, message));
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    /// Every diagnostic, in file order.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (&a.location.path, a.location.line, a.location.column).cmp(&(
                &b.location.path,
                b.location.line,
                b.location.column,
            ))
        });
        self.items
    }
}
