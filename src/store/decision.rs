//! What is kept of each customer message's decision: written by the
//! conversation service, read by the agent API and the handoff bundle.

use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::classify::Report;
use crate::engine::Action;
use crate::escalation::Escalation;

/// A decision as stored beside its message: what the bot did, the handoff
/// it caused, and the classification (intent, evidence, sentiment, cues).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredDecision<'a> {
    /// What the bot did.
    pub action: Action,
    /// The handoff the message caused, if any.
    pub escalation: Option<Escalation>,
    /// The message's classification.
    pub classification: Report<'a>,
    /// The version of the rule set it was made with (decisions kept
    /// before versions were recorded have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_version: Option<String>,
    /// Whether the message settled the customer's question: after an
    /// answer, they thanked or said goodbye (an intent tagged `closing`).
    /// Kept so that the analytics count it as the engine decided it, not by
    /// reading the text again (decisions kept before it was recorded have
    /// `false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
}

impl StoredDecision<'_> {
    /// The stored form (JSON).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing plain data into memory cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored decision back.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when it is not one.
    pub fn from_json(json: &str) -> Result<StoredDecision<'static>, StoreError> {
        // The texts are copied out of `json`: a stored decision outlives it.
        serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("decision: {e}")))
    }
}
