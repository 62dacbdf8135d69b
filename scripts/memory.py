#!/usr/bin/env python3
"""Resident memory of madoguchi: reproduces BENCHMARKS.md's "Memory" figures.

    python3 scripts/memory.py load --rules rules            # check and classify
    python3 scripts/memory.py serve --seconds 20            # idle, then loadgen

`load` runs `madoguchi check` (peak resident size, from the kernel's
high-water mark) and `madoguchi classify` with one message: once its answer
is back the rule set is loaded, and the resident size then is what a
long-running classifier keeps. `serve` starts the service on a fresh SQLite
file with the example rules, reads its resident size after it has been idle
a few seconds, runs the load generator and reads it again. Both need
`cargo build --release --bin madoguchi --example loadgen` first.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "madoguchi"
LOADGEN = ROOT / "target" / "release" / "examples" / "loadgen"


def status(pid):
    """VmRSS and VmHWM of a running process, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def peak_of(cmd):
    """Peak resident size of a command run to its end (wait4's ru_maxrss)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, code, usage = os.wait4(proc.pid, 0)
    if code not in (0, 256):  # 1: the rule set has errors
        sys.exit(f"{' '.join(map(str, cmd))} failed")
    return usage.ru_maxrss


def load(args):
    peak = peak_of([BIN, "check", "--rules", args.rules])
    print(f"check:    peak {mib(peak)}")
    proc = subprocess.Popen(
        [BIN, "classify", "--rules", args.rules],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc.stdin.write("配送状況を知りたいです\n")
    proc.stdin.flush()
    proc.stdout.readline()
    rss, hwm = status(proc.pid)
    proc.stdin.close()
    proc.wait()
    print(f"classify: peak {mib(hwm)}, resident after loading {mib(rss)}")


def serve(args):
    env = dict(
        os.environ,
        MADOGUCHI_RATE_LIMITS="off",
        MADOGUCHI_RULES_WATCH="off",
        MADOGUCHI_MAX_MESSAGES_PER_CONVERSATION="1000000",
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite://{tmp}/load.db"
        server = subprocess.Popen(
            [BIN, "serve", "--database", db, "--listen", args.listen, "--rules", "rules"],
            env=env,
            cwd=ROOT,
            stderr=subprocess.DEVNULL,
        )
        try:
            time.sleep(args.idle)
            rss, hwm = status(server.pid)
            print(f"serve idle:       {mib(rss)} (high-water {mib(hwm)})")
            subprocess.run(
                [
                    LOADGEN,
                    "--url",
                    f"http://{args.listen}",
                    "--connections",
                    "32",
                    "--conversations",
                    "200",
                    "--seconds",
                    str(args.seconds),
                ],
                check=True,
            )
            rss, hwm = status(server.pid)
            print(f"serve after load: {mib(rss)} (high-water {mib(hwm)})")
        finally:
            server.terminate()
            server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("load")
    p.add_argument("--rules", default="rules")
    p = sub.add_parser("serve")
    p.add_argument("--listen", default="127.0.0.1:18081")
    p.add_argument("--seconds", type=int, default=20)
    p.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    {"load": load, "serve": serve}[args.what](args)


if __name__ == "__main__":
    main()
