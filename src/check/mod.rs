//! Checking a compiled rule set against itself: every example must match
//! its intent, and every pattern must be able to do its job.
//!
//! Compiling ([`RuleSet::compile_path`]) proves the rule set can run; these
//! checks classify its own examples and keywords with it, so they sit above
//! [`crate::classify`]. [`load`] is how a rule set is loaded for use: it
//! compiles, then refuses a rule set whose examples do not match.

mod lint;
mod reload;

pub use reload::{ReloadError, Reloaded, Reloader};

use std::path::Path;

use crate::diagnostic::{Diagnostic, Diagnostics, LoadError, Severity};
use crate::rules::{Loaded, RuleSet};

/// Loads a rule set from a file or a folder of `.yaml` files, compiles it
/// and checks its examples. Every problem is reported, not just the first.
///
/// # Errors
/// A [`LoadError`] listing every problem as `path:line:column: message`.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    checked(RuleSet::compile_path(path)?)
}

/// [`load`] for YAML text; `path` names it in messages.
///
/// # Errors
/// A [`LoadError`] listing every problem.
pub fn from_yaml(path: &str, yaml: &str) -> Result<Loaded, LoadError> {
    checked(RuleSet::compile_yaml(path, yaml)?)
}

/// Warnings about patterns that cannot do their job: shadowed by another
/// intent, vetoed by their own intent, or listed twice. Not part of
/// [`load`], since it classifies every keyword; `madoguchi check` runs it.
#[must_use]
pub fn lint_patterns(rules: &RuleSet) -> Vec<Diagnostic> {
    lint::patterns(rules)
}

/// A compiled rule set whose examples match: an example that matches no
/// intent is an error, one that matches another intent a warning.
fn checked(compiled: Loaded) -> Result<Loaded, LoadError> {
    let mut d = Diagnostics::default();
    for warning in compiled.warnings {
        d.push(warning);
    }
    lint::examples(&compiled.rules, &mut d);
    lint::labels(&compiled.rules, &mut d);
    let diagnostics = d.into_sorted();
    if diagnostics.iter().any(|x| x.severity == Severity::Error) {
        return Err(LoadError { diagnostics });
    }
    let mut rules = compiled.rules;
    rules.forget_search_state();
    Ok(Loaded {
        rules,
        warnings: diagnostics,
    })
}
