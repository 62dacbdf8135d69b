//! Sentiment lexicons: data files inside the crate, which a rule set can
//! extend or override under `sentiment: lexicon:`.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A lexicon as written: terms per category. Weights are magnitudes; the
/// category gives the direction. A weight of 0 removes a built-in term.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconSpec {
    /// Words and phrases of dissatisfaction (`がっかり`, `disappointed`).
    #[serde(default)]
    pub negative: BTreeMap<String, f64>,
    /// Words and phrases of satisfaction and thanks.
    #[serde(default)]
    pub positive: BTreeMap<String, f64>,
    /// Explicit demands (`返金しろ`, `I want a refund now`).
    #[serde(default)]
    pub demand: BTreeMap<String, f64>,
    /// Threats to leave (`解約します`, `never order again`).
    #[serde(default)]
    pub churn: BTreeMap<String, f64>,
    /// Threats of legal, regulatory or payment-dispute action
    /// (`消費者センターに相談します`, `I'll file a chargeback`).
    #[serde(default)]
    pub threat: BTreeMap<String, f64>,
    /// Complaints about waiting and being ignored (`返事がない`).
    #[serde(default)]
    pub waiting: BTreeMap<String, f64>,
    /// Words that strengthen the sentiment term they stand before
    /// (`本当に`, `very`): term → factor.
    #[serde(default)]
    pub intensifiers: BTreeMap<String, f64>,
    /// Negations: in Japanese they follow the term (`ない`, `ません`), in
    /// English they precede it (`not`, `never`).
    #[serde(default)]
    pub negators: Vec<String>,
    /// Contrast markers (`けど`, `のに`, `but`): what follows counts more.
    /// The weight is the dissatisfaction the marker carries by itself
    /// (`払ったのに` complains; `けど` does not).
    #[serde(default)]
    pub contrast: BTreeMap<String, f64>,
    /// Polite formulas that soften dissatisfaction (`恐れ入りますが`).
    #[serde(default)]
    pub politeness: Vec<String>,
    /// Terms that mean nothing for sentiment but contain a term that does
    /// (`迷惑メール` holds `迷惑`, `nothing wrong` holds `wrong`): the longer
    /// match wins and counts zero.
    #[serde(default)]
    pub neutral: Vec<String>,
    /// Japanese phrases that look like a negation but are not one
    /// (`残念でなりません`: "terribly sorry"; `〜しかない`: "nothing but";
    /// `〜ではないでしょうか`: a rhetorical "isn't it?").
    #[serde(default)]
    pub not_negations: Vec<String>,
    /// Repetition (`何度も`, `many times`): it complains only beside another
    /// sign of dissatisfaction or a word of contacting (`電話`, `called`),
    /// not in praise (`何度も利用しています`, `stayed many times`).
    #[serde(default)]
    pub repeat: BTreeMap<String, f64>,
    /// Words of contacting or trying that make a nearby repetition a
    /// complaint (`何度も電話した`, `called many times`).
    #[serde(default)]
    pub contact: Vec<String>,
    /// Concessions a writer may withdraw (`と言えば`, `if i had to
    /// complain`): when what follows the next connective accepts
    /// (`許容範囲です`, `but it's fine`), the clause before counts nothing.
    #[serde(default)]
    pub concession: Vec<String>,
    /// Frames of a neutral question (`ても大丈夫`, `is it bad to`): in a
    /// sentence that asks, the negative words around them count nothing.
    #[serde(default)]
    pub neutral_question: Vec<String>,
    /// Words that make a question a complaint (`なぜ`, `why`): a neutral
    /// question frame in their sentence does not apply.
    #[serde(default)]
    pub complaint_question: Vec<String>,
    /// Positive words that turn sarcastic beside a reported failure
    /// (`素晴らしい`, `great`); each must also be a `positive` term.
    #[serde(default)]
    pub sarcasm: Vec<String>,
    /// Self-harm: always escalated, reported apart from complaints.
    #[serde(default)]
    pub self_harm: Vec<String>,
    /// Threats of violence: always escalated, reported apart.
    #[serde(default)]
    pub violence: Vec<String>,
}

/// VADER's negative words (`lexicon/vader_en.tsv`, derived by
/// `scripts/derive_vader_lexicon.py`; MIT licence, see
/// `lexicon/VADER_LICENSE`): read before the YAML lexicons, whose weights
/// win where both have a word.
pub(crate) const VADER_EN: (&str, &str) = (
    "<builtin>/sentiment/vader_en.tsv",
    include_str!("lexicon/vader_en.tsv"),
);

/// VADER rates words by mean valence from −4 to +4; the detector's weights
/// run from 0 to 10, with about 0.8 making a complaint alone and 3 for the
/// strongest words. A VADER word keeps its mean's size, up to 3: every word
/// taken is clearly negative (mean ≤ −1.5), so each makes a complaint alone,
/// as the hand-written words of feeling do.
const VADER_MAX_WEIGHT: f64 = 3.0;

/// The negative words of a VADER-format list (`word<TAB>mean`, `#`
/// comments) as a lexicon.
///
/// # Errors
/// The line number of a line that is not a word and a number.
pub(crate) fn vader_lexicon(text: &str) -> Result<LexiconSpec, usize> {
    let mut spec = LexiconSpec::default();
    for (number, line) in text.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (word, mean) = line.split_once('\t').ok_or(number + 1)?;
        let mean: f64 = mean.trim().parse().map_err(|_| number + 1)?;
        if mean < 0.0 {
            spec.negative
                .insert(word.to_owned(), (-mean).min(VADER_MAX_WEIGHT));
        }
    }
    Ok(spec)
}

/// The built-in lexicons, by file name.
pub(crate) const BUILTIN: &[(&str, &str)] = &[
    (
        "<builtin>/sentiment/ja.yaml",
        include_str!("lexicon/ja.yaml"),
    ),
    (
        "<builtin>/sentiment/en.yaml",
        include_str!("lexicon/en.yaml"),
    ),
];
