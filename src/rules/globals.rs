//! The rule-set-wide declarations: locales, shop values, detail extractors
//! and scoring thresholds. Each may be declared in any one file.

use std::collections::{BTreeMap, BTreeSet};

use serde_saphyr::Spanned;

use super::schema::ShopValue;
use super::source::ParsedFile;
use crate::diagnostic::{Diagnostics, SourceLocation};
use crate::matcher::MatchingSettings;
use crate::sentiment::{ScorerBuilder, SentimentSettings};
use crate::text::Locale;

/// The declarations every intent shares.
pub(crate) struct Globals {
    pub locales: Vec<Locale>,
    /// Per locale index: the shop's values in that locale.
    pub shop: [BTreeMap<String, String>; 2],
    pub shop_keys: BTreeSet<String>,
    /// Detail name → (regex, where it is written).
    pub details: BTreeMap<String, (String, SourceLocation)>,
    pub matching: MatchingSettings,
    /// The words of the shop's context (`matching.context`), with where
    /// each is written.
    pub context: Vec<(String, SourceLocation)>,
    /// The sentiment lexicons (built-in, then the rule set's) and settings.
    pub sentiment: (ScorerBuilder, SentimentSettings),
}

impl Globals {
    pub fn collect(files: &[ParsedFile], d: &mut Diagnostics) -> Self {
        let locales = collect_locales(files, d);
        let shop_entries = collect_map(files, "shop", d, |f| f.rules.shop.as_ref());
        let mut shop: [BTreeMap<String, String>; 2] = Default::default();
        for (key, (value, location)) in &shop_entries {
            check_name("shop value", key, location, d);
            for &locale in &locales {
                match resolve_shop_value(value, locale) {
                    Some(text) => {
                        shop[locale.index()].insert(key.clone(), text.to_owned());
                    }
                    None => d.error(
                        location.clone(),
                        format!("shop value `{key}` has no `{locale}` text, and the rule set declares `{locale}` in `locales`"),
                    ),
                }
            }
        }
        let details = collect_map(files, "details", d, |f| f.rules.details.as_ref());
        for (name, (_, location)) in &details {
            check_name("detail", name, location, d);
        }
        let (matching, context) = collect_matching(files, d);
        Globals {
            locales,
            shop_keys: shop_entries.keys().cloned().collect(),
            shop,
            details: details
                .into_iter()
                .map(|(k, (v, l))| (k, (v.clone(), l)))
                .collect(),
            matching,
            context,
            sentiment: collect_sentiment(files, d),
        }
    }
}

fn resolve_shop_value(value: &ShopValue, locale: Locale) -> Option<&str> {
    match value {
        ShopValue::Same(text) => Some(text),
        ShopValue::PerLocale(per_locale) => per_locale.get(locale).map(String::as_str),
    }
}

/// Shop values and details are used in templates as `shop.NAME` and
/// `details.NAME`, so their names must be plain identifiers.
fn check_name(what: &str, name: &str, location: &SourceLocation, d: &mut Diagnostics) {
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !plain {
        d.error(
            location.clone(),
            format!("{what} name `{name}` is not valid: use lower-case letters, digits and `_`"),
        );
    }
}

/// The first file that declares `key`; a second declaration is an error.
pub(super) fn single<'a, T>(
    files: &'a [ParsedFile],
    key: &str,
    d: &mut Diagnostics,
    get: impl Fn(&'a ParsedFile) -> Option<&'a Spanned<T>>,
) -> Option<(&'a ParsedFile, &'a Spanned<T>)> {
    let mut found: Option<(&ParsedFile, &Spanned<T>)> = None;
    for file in files {
        let Some(value) = get(file) else { continue };
        match found {
            None => found = Some((file, value)),
            Some((first, first_value)) => d.error(
                file.at_value(value),
                format!(
                    "`{key}` is already declared at {}",
                    first.at_value(first_value)
                ),
            ),
        }
    }
    found
}

fn collect_locales(files: &[ParsedFile], d: &mut Diagnostics) -> Vec<Locale> {
    let Some((file, declared)) = single(files, "locales", d, |f| f.rules.locales.as_ref()) else {
        return Locale::ALL.to_vec();
    };
    let mut locales = Vec::new();
    for tag in &declared.value {
        match tag.value.parse::<Locale>() {
            Ok(locale) if locales.contains(&locale) => {
                d.error(
                    file.at_value(tag),
                    format!("locale `{locale}` is listed twice"),
                );
            }
            Ok(locale) => locales.push(locale),
            Err(err) => d.error(file.at_value(tag), err.to_string()),
        }
    }
    if locales.is_empty() {
        if declared.value.is_empty() {
            d.error(
                file.at_value(declared),
                "`locales` is empty: list at least one of `ja`, `en`",
            );
        }
        return Locale::ALL.to_vec();
    }
    locales
}

/// Merges a name → value map declared across files; a name declared twice is
/// an error.
fn collect_map<'a, T>(
    files: &'a [ParsedFile],
    key: &str,
    d: &mut Diagnostics,
    get: impl Fn(&'a ParsedFile) -> Option<&'a Spanned<BTreeMap<String, Spanned<T>>>>,
) -> BTreeMap<String, (&'a T, SourceLocation)> {
    let mut merged: BTreeMap<String, (&T, SourceLocation)> = BTreeMap::new();
    for file in files {
        let Some(map) = get(file) else { continue };
        for (name, value) in &map.value {
            let location = file.at_value(value);
            if let Some((_, first)) = merged.get(name) {
                d.error(
                    location,
                    format!("`{key}.{name}` is already declared at {first}"),
                );
            } else {
                merged.insert(name.clone(), (&value.value, location));
            }
        }
    }
    merged
}

/// The scoring thresholds and the words of the shop's context (with where
/// each is written).
fn collect_matching(
    files: &[ParsedFile],
    d: &mut Diagnostics,
) -> (MatchingSettings, Vec<(String, SourceLocation)>) {
    let mut settings = MatchingSettings::default();
    let Some((file, matching)) = single(files, "matching", d, |f| f.rules.matching.as_ref()) else {
        return (settings, Vec::new());
    };
    if let Some(min) = &matching.value.min_score {
        if min.value > 0.0 && min.value < 1.0 {
            settings.min_score = min.value;
        } else {
            d.error(
                file.at_value(min),
                format!(
                    "`min_score` must be between 0 and 1 (exclusive), not {}",
                    min.value
                ),
            );
        }
    }
    if let Some(margin) = &matching.value.ambiguity_margin {
        if (0.0..1.0).contains(&margin.value) {
            settings.ambiguity_margin = margin.value;
        } else {
            d.error(
                file.at_value(margin),
                format!(
                    "`ambiguity_margin` must be at least 0 and below 1, not {}",
                    margin.value
                ),
            );
        }
    }
    if let Some(unknown) = &matching.value.unknown_words {
        settings.unknown_words = unknown.value;
    }
    let context = matching
        .value
        .context
        .as_ref()
        .map_or_else(Vec::new, |words| {
            if words.value.is_empty() {
                d.error(
                file.at_value(words),
                "empty `context` list: give it the words of the shop's own domain, or remove it",
            );
            }
            words
                .value
                .iter()
                .map(|w| (w.value.clone(), file.at_value(w)))
                .collect()
        });
    (settings, context)
}

/// The built-in lexicons, extended by the rule set's `sentiment:` block.
fn collect_sentiment(
    files: &[ParsedFile],
    d: &mut Diagnostics,
) -> (ScorerBuilder, SentimentSettings) {
    let mut builder = ScorerBuilder::with_builtin();
    let mut settings = SentimentSettings::default();
    if let Some((file, spec)) = single(files, "sentiment", d, |f| f.rules.sentiment.as_ref()) {
        if let Some(threshold) = &spec.value.complaint_threshold {
            if (-1.0..1.0).contains(&threshold.value) {
                settings.complaint_threshold = threshold.value;
            } else {
                d.error(
                    file.at_value(threshold),
                    format!(
                        "`complaint_threshold` must be from -1 up to (not including) 1, not {}",
                        threshold.value
                    ),
                );
            }
        }
        if let Some(lexicon) = &spec.value.lexicon
            && let Err(errors) = builder.add(&lexicon.value)
        {
            for error in errors {
                d.error(file.at_value(lexicon), error.to_string());
            }
        }
    }
    (builder, settings)
}
