//! Reloading the rule set while the service runs: the new one is read,
//! compiled and checked off the request path, then put in force whole; a
//! rule set that does not load is refused with every problem, and the one
//! in force keeps serving.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

use super::load;
use crate::diagnostic::{Diagnostic, LoadError, Severity};
use crate::rules::LiveRules;

/// What a reload did.
#[derive(Debug, Clone)]
pub struct Reloaded {
    /// The version in force now.
    pub version: String,
    /// The version before.
    pub previous: String,
    /// How many intents the rule set in force has.
    pub intents: usize,
    /// The new rule set's warnings.
    pub warnings: Vec<Diagnostic>,
}

impl Reloaded {
    /// Whether the files changed (another version is in force).
    #[must_use]
    pub fn changed(&self) -> bool {
        self.version != self.previous
    }
}

/// Why a reload was refused.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The rules do not load: every problem.
    #[error("the rules do not load:\n{0}")]
    Invalid(LoadError),
    /// The loading task failed.
    #[error("the reload failed: {0}")]
    Failed(String),
}

impl ReloadError {
    /// The errors, one per problem (warnings left out).
    #[must_use]
    pub fn errors(&self) -> Vec<&Diagnostic> {
        match self {
            ReloadError::Invalid(e) => e
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .collect(),
            ReloadError::Failed(_) => Vec::new(),
        }
    }
}

/// Reloads the rule set at `path` into `live`, one reload at a time.
#[derive(Debug)]
pub struct Reloader {
    path: PathBuf,
    live: Arc<LiveRules>,
    one_at_a_time: Mutex<()>,
}

impl Reloader {
    /// A reloader of the rules at `path`, in force in `live`.
    #[must_use]
    pub fn new(path: PathBuf, live: Arc<LiveRules>) -> Self {
        Reloader {
            path,
            live,
            one_at_a_time: Mutex::new(()),
        }
    }

    /// Where the rules are read from.
    #[must_use]
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Reads, compiles and checks the rules, and puts them in force when
    /// they load; `trigger` (`api`, `sighup`, `file_change`) goes to the
    /// log.
    ///
    /// # Errors
    /// [`ReloadError`] when they do not load: the rules in force stay.
    pub async fn reload(&self, trigger: &'static str) -> Result<Reloaded, ReloadError> {
        let _turn = self.one_at_a_time.lock().await;
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&path))
            .await
            .map_err(|e| ReloadError::Failed(e.to_string()))?;
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(errors) => {
                metrics::counter!(crate::telemetry::RELOADS, "outcome" => "refused", "trigger" => trigger)
                    .increment(1);
                tracing::error!(trigger, path = %self.path.display(), %errors, "rules reload refused: the rules in force keep serving");
                return Err(ReloadError::Invalid(errors));
            }
        };
        let previous = self.live.current().version().to_owned();
        let version = loaded.rules.version().to_owned();
        let intents = loaded.rules.intents().len();
        let outcome = if version == previous {
            "unchanged"
        } else {
            "changed"
        };
        metrics::counter!(crate::telemetry::RELOADS, "outcome" => outcome, "trigger" => trigger)
            .increment(1);
        if version != previous {
            self.live.replace(loaded.rules);
            crate::telemetry::rules_in_force(&version, Some(&previous), intents);
            for warning in &loaded.warnings {
                tracing::warn!(%warning, "rule set");
            }
            tracing::info!(trigger, %previous, %version, intents, "rules reloaded");
        }
        Ok(Reloaded {
            version,
            previous,
            intents,
            warnings: loaded.warnings,
        })
    }
}
