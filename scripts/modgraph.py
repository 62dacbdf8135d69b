#!/usr/bin/env python3
"""The module graph of madoguchi, as the README shows it.

Run from the repository root: python3 scripts/modgraph.py [--mermaid]

Reads the top-level modules in the order src/lib.rs declares them and, for
each, the other modules its code names through `crate::` (test code after
`#[cfg(test)]` and tests.rs files left out, as tests/layers.rs reads them).
Prints one line per module with what it uses, or with --mermaid a flowchart.
Exits 1 when a module uses one declared after it (an arrow pointing up)."""
import os
import re
import sys

SRC = "src"


def declared():
    with open(os.path.join(SRC, "lib.rs"), encoding="utf-8") as f:
        return re.findall(r"(?m)^pub mod (\w+);", f.read())


def uses(code):
    code = code.split("#[cfg(test)]")[0]
    found = set(re.findall(r"crate::(\w+)", code))
    for group in re.findall(r"crate::\{([^;]*?)\}", code, re.S):
        found |= set(re.findall(r"(?:^|[,{\s])(\w+)(?:::|\s*[,}]|\s*$)", group))
    return found - {"self", "super"}


def graph(order):
    edges = {m: set() for m in order}
    for directory, _, files in os.walk(SRC):
        for name in files:
            if not name.endswith(".rs") or name == "tests.rs" or name.endswith("_tests.rs"):
                continue
            path = os.path.join(directory, name)
            top = os.path.relpath(path, SRC).split(os.sep)[0].removesuffix(".rs")
            if top in ("lib", "main"):
                continue
            with open(path, encoding="utf-8") as f:
                edges.setdefault(top, set()).update(uses(f.read()) - {top})
    return edges


def main():
    order = declared()
    edges = graph(order)
    rank = {m: n for n, m in enumerate(order)}
    upward = [(a, b) for a in edges for b in edges[a] if rank.get(b, len(order)) > rank.get(a, -1)]
    if "--mermaid" in sys.argv:
        print("flowchart BT")
        for module in order:
            for used in sorted(edges[module], key=lambda m: rank.get(m, 0)):
                print(f"    {module} --> {used}")
    else:
        width = max(len(m) for m in order)
        for module in order:
            used = sorted(edges[module], key=lambda m: rank.get(m, 0))
            print(f"{module:<{width}}  {', '.join(used) if used else '-'}")
    for a, b in upward:
        print(f"upward: {a} -> {b}", file=sys.stderr)
    return 1 if upward else 0


if __name__ == "__main__":
    sys.exit(main())
