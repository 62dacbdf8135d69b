#!/usr/bin/env python3
"""Complaint detection: madoguchi against the lexicon tools a team would
otherwise pick, on the same labelled messages.

    python3 scripts/compare_sentiment.py

prints, per file, precision / recall / F1 of:
- madoguchi (`madoguchi eval --json`, the built-in lexicons, the example rules),
- VADER (PyPI vaderSentiment) for English: complaint when compound <= -0.05,
- oseti (PyPI oseti with the ipadic dictionary) for Japanese: complaint when
  the mean of its sentence scores is below 0 (and, for reference, when any
  sentence is negative).

VADER and oseti are installed into target/eval-venv on first use.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "target" / "eval-venv"
FILES = [
    ("data/eval/support_ja.jsonl", "ja"),
    ("data/eval/support_en.jsonl", "en"),
    ("data/holdout/complaints_ja.jsonl", "ja"),
    ("data/holdout/complaints_en.jsonl", "en"),
    ("data/field/complaints_ja.jsonl", "ja"),
    ("data/field/complaints_en.jsonl", "en"),
]

BASELINES = r'''
import json, sys
lang, path = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
rows = [r for r in rows if r.get("complaint") is not None]
out = []
if lang == "en":
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    vader = SentimentIntensityAnalyzer()
    for r in rows:
        out.append({"gold": r["complaint"], "vader": vader.polarity_scores(r["text"])["compound"] <= -0.05})
else:
    import ipadic, oseti
    analyzer = oseti.Analyzer(mecab_args=ipadic.MECAB_ARGS)
    for r in rows:
        scores = analyzer.analyze(r["text"]) or [0]
        out.append({"gold": r["complaint"],
                    "oseti": sum(scores) / len(scores) < 0,
                    "oseti_any": min(scores) < 0})
print(json.dumps(out))
'''


def ensure_venv():
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", "vaderSentiment", "oseti", "ipadic"], check=True)
    return python


def scores(pairs):
    tp = sum(1 for g, p in pairs if g and p)
    fp = sum(1 for g, p in pairs if not g and p)
    fn = sum(1 for g, p in pairs if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def madoguchi(path):
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    out = subprocess.run(
        [ROOT / "target" / "release" / "madoguchi", "eval", "--rules", ROOT / "rules", "--data", path, "--json"],
        check=True, stdout=subprocess.PIPE,
    )
    c = json.loads(out.stdout)["complaint"]
    return c["precision"], c["recall"], c["f1"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="JSONL files with `text` and `complaint` (default: the repository's sets)")
    args = parser.parse_args()
    files = [(f, "ja" if "_ja" in f else "en") for f in args.files] or FILES
    python = ensure_venv()
    print("| data | lines | tool | precision | recall | F1 |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for name, lang in files:
        path = ROOT / name
        result = subprocess.run([python, "-c", BASELINES, lang, path], check=True, stdout=subprocess.PIPE)
        rows = json.loads(result.stdout)
        tools = [("madoguchi", madoguchi(path))]
        if lang == "en":
            tools.append(("VADER (compound ≤ −0.05)", scores([(r["gold"], r["vader"]) for r in rows])))
        else:
            tools.append(("oseti (mean < 0)", scores([(r["gold"], r["oseti"]) for r in rows])))
            tools.append(("oseti (any sentence < 0)", scores([(r["gold"], r["oseti_any"]) for r in rows])))
        for tool, (p, r, f) in tools:
            print(f"| {name} | {len(rows)} | {tool} | {p:.3f} | {r:.3f} | {f:.3f} |")


if __name__ == "__main__":
    main()
