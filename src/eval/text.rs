//! The eval report as text.

use std::io::{self, Write};

use super::{EvalReport, Scores};

impl EvalReport {
    /// Writes the report for people: summary lines, a per-intent table,
    /// complaint scores per language, frequent confusions.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        write_text(out, self)
    }
}

fn write_text(out: &mut impl Write, r: &EvalReport) -> io::Result<()> {
    writeln!(out, "{} lines", r.lines)?;
    if r.intent_lines > 0 {
        writeln!(
            out,
            "\nintents: {} labelled lines, accuracy {:.3}",
            r.intent_lines, r.accuracy
        )?;
        if r.out_of_scope.lines > 0 {
            writeln!(
                out,
                "out of scope: {} lines, {} wrongly answered ({:.1}%)",
                r.out_of_scope.lines,
                r.out_of_scope.answered,
                100.0 * r.out_of_scope.rate
            )?;
        }
        if r.uncovered.lines > 0 {
            writeln!(
                out,
                "intents the rule set does not cover: {} lines, {} answered anyway ({:.1}%)",
                r.uncovered.lines,
                r.uncovered.answered,
                100.0 * r.uncovered.rate
            )?;
        }
        writeln!(
            out,
            "\n{:<28} {:>7} {:>9} {:>7} {:>7}",
            "intent", "support", "precision", "recall", "f1"
        )?;
        for i in &r.intents {
            writeln!(
                out,
                "{:<28} {:>7} {:>9.3} {:>7.3} {:>7.3}",
                i.intent, i.support, i.scores.precision, i.scores.recall, i.scores.f1
            )?;
        }
    }
    if let Some(complaint) = &r.complaint {
        writeln!(out)?;
        write_scores(out, "complaints", complaint)?;
        for (locale, scores) in &r.complaint_by_locale {
            write_scores(out, &format!("complaints ({locale})"), scores)?;
        }
    }
    if let Some(safety) = &r.safety {
        write_scores(out, "safety", safety)?;
    }
    if !r.confusions.is_empty() {
        writeln!(out, "\nmost frequent confusions (expected → predicted):")?;
        for c in &r.confusions {
            let name = |x: &Option<String>| x.clone().unwrap_or_else(|| "(none)".to_owned());
            writeln!(
                out,
                "  {:>4}  {} → {}",
                c.count,
                name(&c.expected),
                name(&c.predicted)
            )?;
        }
    }
    Ok(())
}

fn write_scores(out: &mut impl Write, label: &str, s: &Scores) -> io::Result<()> {
    writeln!(
        out,
        "{label}: precision {:.3}, recall {:.3}, f1 {:.3} (tp {}, fp {}, fn {}, tn {})",
        s.precision, s.recall, s.f1, s.counts.tp, s.counts.fp, s.counts.fn_, s.counts.tn
    )
}
