//! The rule set in force, swapped whole when the rules are reloaded: a
//! message is decided with the rule set it started with, and a reload
//! never waits for the messages in flight nor makes them wait.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::RuleSet;

/// The rule set in force.
#[derive(Debug)]
pub struct LiveRules(ArcSwap<RuleSet>);

impl LiveRules {
    /// Starts with `rules`.
    #[must_use]
    pub fn new(rules: RuleSet) -> Self {
        LiveRules(ArcSwap::from_pointee(rules))
    }

    /// Starts with a rule set shared with others.
    #[must_use]
    pub fn from_shared(rules: Arc<RuleSet>) -> Self {
        LiveRules(ArcSwap::new(rules))
    }

    /// The rule set in force now; it stays whole for as long as it is held,
    /// whatever reloads happen meanwhile.
    #[must_use]
    pub fn current(&self) -> Arc<RuleSet> {
        self.0.load_full()
    }

    /// Puts `rules` in force; returns the rule set it replaces.
    pub fn replace(&self, rules: RuleSet) -> Arc<RuleSet> {
        self.0.swap(Arc::new(rules))
    }
}
