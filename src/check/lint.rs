//! Checks that need the compiled rule set: examples that do not match their
//! intent, examples that collide with another intent, and patterns that
//! cannot win.

use std::collections::HashMap;

use crate::classify::classify;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::matcher::{PatternInfo, PatternKind};
use crate::rules::{IntentIndex, RuleSet};
use crate::text::{Locale, normalize};

/// Every example must match its intent. One that matches no intent is an
/// error (the intent's patterns do not cover it); one that matches another
/// intent better, or too closely to call, is a collision and a warning.
pub(super) fn examples(rules: &RuleSet, d: &mut Diagnostics) {
    for (index, intent) in (0..).zip(rules.intents()) {
        for example in &intent.examples {
            let result = classify(rules, &example.text);
            let own = result
                .outcome
                .candidates
                .iter()
                .find(|c| c.intent == index)
                .map_or(0.0, |c| c.score);
            let id = &intent.id;
            match result.outcome.best() {
                None => d.error(
                    example.location.clone(),
                    format!(
                        "example `{}` of `{id}` matches no intent (its score for `{id}` is {own:.2}, below {:.2}): add a pattern that covers it",
                        example.text,
                        rules.matcher().settings().min_score
                    ),
                ),
                Some(best) if best.intent != index => d.warning(
                    example.location.clone(),
                    format!(
                        "example `{}` of `{id}` matches `{}` better ({:.2} against {own:.2})",
                        example.text,
                        rules.intent(best.intent).id,
                        best.score
                    ),
                ),
                Some(best) => {
                    if let Some(other) = result.outcome.runner_up() {
                        d.warning(
                            example.location.clone(),
                            format!(
                                "example `{}` of `{id}` is too close to call against `{}` ({:.2} against {:.2})",
                                example.text,
                                rules.intent(other.intent).id,
                                best.score,
                                other.score
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// A quick reply's label is what a customer sees and may type: typed alone,
/// it must lead to its own intent, or the button promises what the bot does
/// not do when the label comes back as text (from another conversation, a
/// copied message, a client that sends only text).
pub(super) fn labels(rules: &RuleSet, d: &mut Diagnostics) {
    for (index, intent) in (0..).zip(rules.intents()) {
        for locale in Locale::ALL {
            let (Some(label), Some(location)) = (
                intent.label[locale.index()].as_deref(),
                intent.label_locations[locale.index()].as_ref(),
            ) else {
                continue;
            };
            let result = classify(rules, label);
            let id = &intent.id;
            match result.outcome.best() {
                Some(best) if best.intent == index => {}
                Some(best) => d.warning(
                    location.clone(),
                    format!(
                        "label `{label}` of `{id}` leads to `{}` when typed: add a pattern of `{id}` that covers it, or reword it",
                        rules.intent(best.intent).id
                    ),
                ),
                None => d.warning(
                    location.clone(),
                    format!(
                        "label `{label}` of `{id}` leads to no intent when typed: add a pattern of `{id}` that covers it, or reword it"
                    ),
                ),
            }
        }
    }
}

/// Patterns that cannot do their job: a keyword that contains one of its
/// own intent's `not` words (it always vetoes itself), a keyword that on its
/// own goes to another intent (shadowed), and the same keyword twice in one
/// intent.
pub(super) fn patterns(rules: &RuleSet) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut seen: HashMap<(IntentIndex, PatternKind, Option<Locale>, String), u32> = HashMap::new();
    for (n, pattern) in (0..).zip(rules.matcher().patterns()) {
        let Some(intent) = pattern.intent else {
            continue;
        };
        if !matches!(
            pattern.kind,
            PatternKind::Any | PatternKind::Generic | PatternKind::Not
        ) {
            continue;
        }
        let word = pattern.text.trim().trim_end_matches('*');
        // A word listed under both `any` and `generic` is listed twice.
        let kind = match pattern.kind {
            PatternKind::Generic => PatternKind::Any,
            kind => kind,
        };
        let key = (
            intent,
            kind,
            pattern.locale,
            normalize(word).as_str().to_owned(),
        );
        if let Some(&first) = seen.get(&key) {
            let first = &rules.pattern_source(first).text;
            found.push(Diagnostic::warning(
                rules.pattern_source(n).location.clone(),
                format!("`{}` is listed twice (first at {first})", pattern.text),
            ));
            continue;
        }
        seen.insert(key, n);
        if matches!(pattern.kind, PatternKind::Any | PatternKind::Generic) {
            found.extend(shadowed(rules, intent, n, pattern));
        }
    }
    found
}

fn shadowed(
    rules: &RuleSet,
    intent: IntentIndex,
    pattern_id: u32,
    pattern: &PatternInfo,
) -> Option<Diagnostic> {
    let location = &rules.pattern_source(pattern_id).location;
    let word = pattern.text.trim().trim_end_matches('*');
    let result = classify(rules, word);
    let id = &rules.intent(intent).id;
    if let Some(veto) = result.outcome.vetoes.iter().find(|v| v.intent == intent) {
        let not = &rules.matcher().patterns()[veto.evidence.pattern as usize];
        return Some(Diagnostic::warning(
            location.clone(),
            format!(
                "`{}` can never match `{id}`: it contains `{}`, which vetoes `{id}`",
                pattern.text, not.text
            ),
        ));
    }
    if pattern.locale.is_some_and(|l| l != result.locale) {
        // A locale-restricted word read on its own in another locale (an
        // English product name in the `ja:` block) says nothing here.
        return None;
    }
    let best = result.outcome.candidates.first()?;
    (best.intent != intent).then(|| {
        Diagnostic::warning(
            location.clone(),
            format!(
                "`{}` never wins for `{id}` on its own: a message of just these words goes to `{}` ({:.2})",
                pattern.text,
                rules.intent(best.intent).id,
                best.score
            ),
        )
    })
}
