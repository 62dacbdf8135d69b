//! Reporting on a stream of messages, one per line (what `madoguchi
//! classify` does), on every core while keeping the input order.
//!
//! A reader thread takes lines off the input as fast as they come. Whatever
//! has arrived is reported on as one batch, split across threads, and
//! written in order; so a file or pipe goes in large batches on all cores,
//! and a person typing lines gets each answer at once.

use std::io::{self, BufRead, Write};
use std::sync::mpsc;
use std::thread;

use rayon::prelude::*;

/// The most lines classified as one batch.
const BATCH: usize = 4096;
/// Below this many lines a batch is not worth splitting across threads.
const SPLIT_FROM: usize = 64;

/// Reports every line of `input` with `report` (which appends one line of
/// output for the text it is given) and writes the output in input order.
/// Invalid UTF-8 is replaced, `\r\n` accepted.
///
/// # Errors
/// When reading or writing fails.
pub fn report_lines(
    input: impl BufRead + Send,
    output: &mut impl Write,
    report: impl Fn(&str, &mut Vec<u8>) + Sync,
) -> io::Result<()> {
    let workers = rayon::current_num_threads();
    thread::scope(|scope| {
        let (lines, received) = mpsc::sync_channel::<io::Result<Vec<u8>>>(BATCH * 2);
        scope.spawn(move || read_lines(input, &lines));
        let mut batch = Vec::with_capacity(BATCH);
        while let Ok(first) = received.recv() {
            batch.clear();
            batch.push(first?);
            while batch.len() < BATCH {
                match received.try_recv() {
                    Ok(line) => batch.push(line?),
                    Err(_) => break,
                }
            }
            for chunk in classify_batch(&report, &batch, workers) {
                output.write_all(&chunk)?;
            }
            output.flush()?;
        }
        Ok(())
    })
}

fn read_lines(mut input: impl BufRead, lines: &mpsc::SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return,
            Ok(_) => {
                if lines.send(Ok(line)).is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = lines.send(Err(err));
                return;
            }
        }
    }
}

/// The JSON lines of a batch, in chunks to write in order.
fn classify_batch(
    report: &(impl Fn(&str, &mut Vec<u8>) + Sync),
    batch: &[Vec<u8>],
    workers: usize,
) -> Vec<Vec<u8>> {
    if workers == 1 || batch.len() < SPLIT_FROM {
        return vec![classify_chunk(report, batch)];
    }
    // Rayon's threads live as long as the process, so each keeps its regex
    // caches warm from one batch to the next.
    let size = batch.len().div_ceil(workers);
    batch
        .par_chunks(size)
        .map(|chunk| classify_chunk(report, chunk))
        .collect()
}

fn classify_chunk(report: &impl Fn(&str, &mut Vec<u8>), lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.len() * 512);
    for line in lines {
        let text = String::from_utf8_lossy(line);
        report(text.trim_end_matches(['\n', '\r']), &mut out);
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "locales: [en]\nintents:\n  - id: refund\n    match: { any: [refund] }\n    answer: { en: ok }\n";

    #[test]
    fn a_large_input_comes_out_in_order_one_line_each() {
        let rules = crate::check::from_yaml("t.yaml", RULES).unwrap().rules;
        let input: String = (0..3000)
            .map(|n| {
                if n % 3 == 0 {
                    format!("refund {n}\n")
                } else {
                    format!("hello {n}\r\n")
                }
            })
            .collect();
        let mut output = Vec::new();
        report_lines(input.as_bytes(), &mut output, |text, out| {
            report(&rules, text, out);
        })
        .unwrap();
        let lines: Vec<serde_json::Value> = output
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3000);
        for (n, line) in lines.iter().enumerate() {
            let expected_text = if n % 3 == 0 {
                format!("refund {n}")
            } else {
                format!("hello {n}")
            };
            assert_eq!(line["text"], expected_text.as_str());
            let expected_intent = if n % 3 == 0 {
                serde_json::json!("refund")
            } else {
                serde_json::Value::Null
            };
            assert_eq!(line["intent"], expected_intent);
        }
    }

    fn report(rules: &crate::rules::RuleSet, text: &str, out: &mut Vec<u8>) {
        let classification = crate::classify::classify(rules, text);
        serde_json::to_writer(out, &classification.report(rules, text, false)).unwrap();
    }

    #[test]
    fn empty_input_writes_nothing() {
        let rules = crate::check::from_yaml("t.yaml", RULES).unwrap().rules;
        let mut output = Vec::new();
        report_lines(&b""[..], &mut output, |text, out| report(&rules, text, out)).unwrap();
        assert!(output.is_empty());
    }
}
