#!/usr/bin/env python3
"""Complaint detection per shape on data/field/: lines right of each shape.

    python3 scripts/complaints_by_shape.py [FILE...]

builds madoguchi, runs `madoguchi classify` (the built-in lexicons, the
example rules) over each file's texts and compares its `complaint` with the
label, per `shape` (default: data/field/complaints_ja.jsonl and _en.jsonl).
"""

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ["data/field/complaints_ja.jsonl", "data/field/complaints_en.jsonl"]


def main() -> None:
    files = sys.argv[1:] or FILES
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    binary = ROOT / "target" / "release" / "madoguchi"
    for name in files:
        rows = [json.loads(line) for line in open(ROOT / name, encoding="utf-8") if line.strip()]
        texts = "\n".join(row["text"] for row in rows) + "\n"
        out = subprocess.run(
            [str(binary), "classify", "--rules", str(ROOT / "rules")],
            input=texts, capture_output=True, text=True, check=True,
        ).stdout.splitlines()
        right = defaultdict(lambda: [0, 0])
        for row, line in zip(rows, out):
            got = json.loads(line)["complaint"]
            right[row["shape"]][0] += got == row["complaint"]
            right[row["shape"]][1] += 1
        print(f"{name}")
        for shape, (ok, total) in sorted(right.items()):
            print(f"  {shape:40} {ok:3} / {total}")


if __name__ == "__main__":
    main()
